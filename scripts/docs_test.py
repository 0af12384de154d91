#!/usr/bin/env python3
"""The docs check, run by the test command: README.md and docs/*.md stay readable and self-contained.

    python3 scripts/docs_test.py

- README.md has at most 250 lines.
- Every Markdown link and image outside fenced code blocks and inline code — inline `[x](target)` and
  `![x](target)`, reference definitions `[x]: target` and autolinks `<scheme:…>` — points inside the
  repository: no scheme (http:, https:, mailto:, …), no absolute path, and the relative path exists
  from the file's folder without leaving the repository.
- A `#anchor` resolves to a heading of the target Markdown file (GitHub's slugs: lowercase,
  punctuation other than hyphens and spaces dropped, spaces as hyphens, `-1`, `-2`… for repeats),
  or to a line (`#L12`, `#L12-L20`) of any other file.
- No development-history words (case-insensitive, whole words; the list is HISTORY_WORDS below):
  the docs say what Relevo does and why, not how it was built. A word the product also uses for
  itself (the state a PostgreSQL, database, server or TLS connection keeps) is not counted there.

Prints one line per problem (`file:line: problem`) and a summary; exits 1 on any problem.
Standard library only.
"""
import glob
import os
import re
import sys
import urllib.parse

ROOT = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
README_MAX_LINES = 250

# Development-history words: short and precise, so product text is never flagged.
HISTORY_WORDS = [
    (re.compile(r"(?<![\w-])(?<!postgresql )(?<!database )(?<!server )(?<!tls )sessions?(?![\w-])", re.IGNORECASE), "session"),
    (re.compile(r"(?<![\w-])tried and not kept(?![\w-])", re.IGNORECASE), "tried and not kept"),
    (re.compile(r"(?<![\w-])issue (?:#|\d)", re.IGNORECASE), "issue #"),
    (re.compile(r"(?<![\w-])before the fix(?![\w-])", re.IGNORECASE), "before the fix"),
]

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
ATX_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
SETEXT_UNDERLINE = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
HTML_ANCHOR = re.compile(r"""<a\s[^>]*(?:name|id)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
INLINE_CODE = re.compile(r"(`+)(.+?)\1")
# [text](target) or ![text](target), with an optional <…> around the target and an optional title.
INLINE_LINK = re.compile(r"""(!?)\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\(\s*(<[^>]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)(?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*\)""")
REFERENCE_DEFINITION = re.compile(r"^ {0,3}\[([^\]]+)\]:\s*(<[^>]*>|\S+)")
AUTOLINK = re.compile(r"<([A-Za-z][A-Za-z0-9+.-]{1,31}:[^<>\s]*)>")
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
LINE_ANCHOR = re.compile(r"^L\d+(?:-L\d+)?$")


def prose_lines(text):
    """(line number, line) of every line outside fenced code blocks."""
    fence = None
    for number, line in enumerate(text.splitlines(), 1):
        match = FENCE.match(line)
        if fence is None:
            if match:
                fence = match.group(1)
                continue
            yield number, line
        elif match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence) \
                and line.strip() == match.group(1):
            fence = None


def slug(heading):
    """GitHub's anchor for a heading's text."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link or image in a heading: its text
    text = re.sub(r"<[^>]+>", "", text)                         # inline HTML
    text = text.strip().lower()
    text = "".join(c for c in text if c.isalnum() or c in "-_ ")
    return text.replace(" ", "-")


def anchors(path, cache={}):
    """Every anchor a Markdown file offers: its headings' slugs (repeats numbered) and HTML anchors."""
    if path in cache:
        return cache[path]
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    found, seen = set(), {}
    previous = None
    for _, line in prose_lines(text):
        heading = None
        atx = ATX_HEADING.match(line)
        if atx:
            heading = atx.group(2) or ""
        elif previous and SETEXT_UNDERLINE.match(line) and not previous.lstrip().startswith(("|", "-", "*", ">")):
            heading = previous.strip()
        if heading is not None:
            base = slug(heading)
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
        for name in HTML_ANCHOR.findall(line):
            found.add(name)
        previous = line if line.strip() and not atx else None
    cache[path] = found
    return found


def links(line):
    """(kind, target) of every link on a prose line, inline code left out."""
    line = INLINE_CODE.sub(lambda m: "\u2026" * len(m.group(0)), line)
    result = []
    definition = REFERENCE_DEFINITION.match(line)
    if definition:
        result.append(("reference", definition.group(2)))
    for match in INLINE_LINK.finditer(line):
        result.append(("image" if match.group(1) else "link", match.group(3)))
    for match in AUTOLINK.finditer(line):
        result.append(("autolink", match.group(1)))
    return result


def check_target(source, target):
    """The problem with a link's target, or None."""
    target = target.strip()
    if target.startswith("<") and target.endswith(">"):
        target = target[1:-1].strip()
    if not target:
        return "empty link target"
    if SCHEME.match(target) or target.startswith("//"):
        return f"points outside the repository: {target}"
    path_part, _, fragment = target.partition("#")
    path_part = urllib.parse.unquote(path_part.partition("?")[0])
    if path_part.startswith("/"):
        return f"absolute path (use one relative to {os.path.relpath(os.path.dirname(source), ROOT) or '.'}/): {target}"
    resolved = os.path.realpath(os.path.join(os.path.dirname(source), path_part)) if path_part else source
    if resolved != ROOT and not resolved.startswith(ROOT + os.sep):
        return f"leaves the repository: {target}"
    if not os.path.exists(resolved):
        return f"no such file: {target}"
    if fragment:
        fragment = urllib.parse.unquote(fragment)
        if resolved.endswith((".md", ".markdown")) and os.path.isfile(resolved):
            if fragment not in anchors(resolved):
                return f"no heading for #{fragment} in {os.path.relpath(resolved, ROOT)}: {target}"
        elif not (os.path.isfile(resolved) and LINE_ANCHOR.match(fragment)):
            return f"anchor #{fragment} cannot be checked in {os.path.relpath(resolved, ROOT)}: {target}"
    return None


def main():
    files = [os.path.join(ROOT, "README.md")] + sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))
    problems = []
    checked_links = 0
    for path in files:
        name = os.path.relpath(path, ROOT)
        if not os.path.isfile(path):
            problems.append(f"{name}: missing")
            continue
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        lines = text.splitlines()
        if name == "README.md" and len(lines) > README_MAX_LINES:
            problems.append(f"{name}: {len(lines)} lines, more than {README_MAX_LINES}")
        for number, line in prose_lines(text):
            for kind, target in links(line):
                checked_links += 1
                problem = check_target(path, target)
                if problem:
                    problems.append(f"{name}:{number}: {kind} {problem}")
        for number, line in enumerate(lines, 1):
            for pattern, word in HISTORY_WORDS:
                if pattern.search(line):
                    problems.append(f"{name}:{number}: development-history word \"{word}\": {line.strip()[:100]}")
    for problem in problems:
        print(problem)
    print(f"docs check: {len(files)} files, {checked_links} links and images, "
          f"{len(problems)} problem{'s' if len(problems) != 1 else ''}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
