#!/usr/bin/env python3
"""The operator console in a real browser (headless Chromium driven by Playwright) against a live
Relevo, a live panel and data that carries markup.

The panel answers 500 (with markup in its answer) or 200 as the test says. Names, metadata,
messages and the panel's answer carry `<img src=x onerror=…>`, `<script>` and `"><svg onload=…>`
payloads that would set `window.__xss`. The test signs in (after a wrong key), sees the overview,
the conversations and a transcript, a delivered and a failed event, redelivers the failed one and
watches it turn delivered, bulk-redelivers two more after a confirmation that says how many,
regenerates the signing secret and sees it once, creates a bot, switches to Spanish, looks at the
pages at 375 px, moves by keyboard, signs out, and is sent back to sign in when its key is revoked.
Throughout: no payload runs or becomes an element, no request leaves for another origin, the key
is in no URL, cookie or localStorage. Every page is saved as a screenshot in --screenshots (a
temporary directory by default). Prints one line per check and `N passed, N failed`.

    python3 scripts/console_test.py path/to/relevo [--screenshots DIR]
"""
import argparse, json, os, re, subprocess, sys, tempfile, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Checks, Relevo, call, wait_for

from playwright.sync_api import sync_playwright

parser = argparse.ArgumentParser()
parser.add_argument("binary")
parser.add_argument("--screenshots", default=None)
arguments = parser.parse_args()
directory = tempfile.mkdtemp(prefix="relevo-console-")
shots = arguments.screenshots or os.path.join(directory, "screenshots")
os.makedirs(shots, exist_ok=True)
checks = Checks()

IMG = '<img src=x onerror="window.__xss=\'img\'">'
SCRIPT = "<script>window.__xss='script'</script>"
SVG = '"><svg onload="window.__xss=\'svg\'">'


class Panel:
    """Answers 200, or 500 with markup in the body while `failing`."""

    def __init__(self):
        self.failing = False
        self.received = []  # the headers of every request, in arrival order
        panel = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                panel.received.append({name.lower(): value for name, value in self.headers.items()})
                body = f"panel down {IMG}{SCRIPT}".encode() if panel.failing else b'{"ok":true}'
                self.send_response(500 if panel.failing else 200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/events"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


panel = Panel()
relevo = Relevo(arguments.binary, directory, f"sqlite://{directory}/relevo.sqlite")
relevo.command[relevo.command.index("--retry-schedule") + 1] = "100ms,100ms"
try:
    relevo.start()
    project, key = relevo.banner()
    base = f"/v1/external-support/{project}"

    def api(method, path, body=None):
        return call(relevo.base, method, path, body, key=key)

    def event_status(event_id):
        return api("GET", f"{base}/events/{event_id}")["data"]["status"]

    def events_of(conversation, kind="message"):
        return [event for event in api("GET", f"{base}/events?conversationId={conversation}&limit=200")["data"]["events"]
                if event["eventType"] == kind and event["destination"] == "panel"]

    api("POST", base, {"webhookUrl": panel.url, "authType": "bearer", "authorization": "panel-token"})
    api("POST", f"/v1/projects/{project}/bots", {"id": "sales", "name": f"Sales {SCRIPT}"})
    api("PUT", f"/v1/projects/{project}/users/ana", {"names": f"Ana {SVG}"})
    api("PUT", f"/v1/projects/{project}/users/luis", {"names": "Luis"})
    conversation = api("POST", f"{base}/conversations/start", {
        "botId": "sales", "userId": "ana", "initialMessage": f"Hola {IMG}",
        "metadata": {IMG: SVG, "page": "/precios"}, "assignment": {"type": "queue", "target": SCRIPT}})["data"]["_id"]
    wait_for(lambda: all(event_status(event["id"]) == "delivered" for event in events_of(conversation, "conversation.start")), 10)

    def say(user, message_id, text):
        api("POST", f"/v1/projects/{project}/channel/messages",
            {"botId": "sales", "userId": user, "value": {"id": message_id, "type": "text", "content": {"body": text}}})

    say("ana", "m-ok", f"primer mensaje {SCRIPT}")
    checks("setup: a delivered message event", wait_for(lambda: any(event_status(e["id"]) == "delivered" for e in events_of(conversation)), 10))
    panel.failing = True
    say("ana", "m-fail", f"segundo {IMG}")
    failed_id = [e["id"] for e in events_of(conversation) if e["status"] != "delivered"][0]
    checks("setup: a failed message event (500, retries exhausted)", wait_for(lambda: event_status(failed_id) == "failed", 15))

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-US")
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=relevo.base)
        page = context.new_page()
        requests, errors = [], []
        page.on("request", lambda request: requests.append(request.url))
        page.on("pageerror", lambda error: errors.append(str(error)))
        shot_names = []

        def shoot(name):
            page.wait_for_timeout(150)
            page.screenshot(path=os.path.join(shots, f"{name}.png"), full_page=True)
            shot_names.append(name)

        def no_xss(where):
            ran = page.evaluate("window.__xss")
            elements = page.evaluate("""() => document.querySelectorAll('img, svg, script:not([src="/console/console.js"]), iframe, object').length""")
            checks(f"{where}: no payload ran or became an element", ran is None and elements == 0, f"__xss={ran}, elements={elements}")

        response = page.goto(f"{relevo.base}/console")
        policy = response.headers.get("content-security-policy", "")
        checks("the console page comes with its Content-Security-Policy",
               "script-src 'self'" in policy and "frame-ancestors 'none'" in policy, policy)
        page.wait_for_selector("#api-key")
        shoot("sign-in")
        page.fill("#api-key", "rlv_not-a-key")
        page.click("form.signin button[type=submit]")
        wait_for(lambda: page.inner_text("#sign-in-error"), 10)
        checks("a wrong key gets a clear message", "not valid" in page.inner_text("#sign-in-error"), page.inner_text("#sign-in-error"))
        page.fill("#api-key", key)
        page.click("form.signin button[type=submit]")
        page.wait_for_selector("#health-title")
        text = page.inner_text("main")
        checks("the overview shows the integration and the delivery health",
               panel.url in text and "bearer" in text and "Failed in the last hour" in text and "See the 1 failed event" in text, text)
        checks("the project is named in the header", project in page.inner_text("#project"))
        shoot("overview")

        page.click("nav a[href='#/conversations']")
        page.wait_for_selector("table")
        row = page.inner_text("main table")
        checks("the conversation list shows the user's name as text", f"Ana {SVG}" in row, row)
        no_xss("conversation list")
        shoot("conversations")
        page.click(f"a[href='#/conversations/{conversation}']")
        page.wait_for_selector(".transcript .bubble")
        transcript = page.inner_text(".transcript")
        checks("the transcript shows the messages as text, in order",
               transcript.index(f"Hola {IMG}") < transcript.index(f"primer mensaje {SCRIPT}") < transcript.index(f"segundo {IMG}"), transcript)
        checks("metadata keys and values show as text", IMG in page.inner_text("main") and SVG in page.inner_text("main"))
        no_xss("conversation")
        shoot("conversation")
        # The transcript refreshes by itself: a new message appears without a reload, the reader stays put.
        say("ana", "m-live", "mensaje en vivo")
        checks("a new message appears in the open transcript without a reload",
               wait_for(lambda: "mensaje en vivo" in page.inner_text(".transcript"), 15))

        page.click("nav a[href='#/events']")
        page.wait_for_selector("tr[data-event-id]")
        statuses = page.eval_on_selector_all("tr[data-event-id] td.status", "cells => cells.map(c => c.textContent)")
        checks("the event log shows a delivered and a failed event", "delivered" in statuses and "failed" in statuses, str(statuses))
        shoot("events")
        page.click(f"a[href='#/events/{failed_id}']")
        page.wait_for_selector("#event-body")
        attempts = page.inner_text("main table")
        checks("the failed event shows its three attempts with 500 and the answer as text",
               attempts.count("500") >= 3 and f"panel down {IMG}{SCRIPT}" in attempts, attempts)
        shown = dict(line.split(": ", 1) for line in page.inner_text("pre[data-headers]").splitlines())
        sent = [request for request in panel.received if request["webhook-id"] == failed_id][-1]
        checks("the headers shown are those the last attempt sent, signatures included",
               all(shown.get(name) == sent[name.lower()] for name in
                   ["X-Jelou-Signature", "webhook-id", "webhook-timestamp", "webhook-signature", "User-Agent", "Content-Type"]),
               f"shown {shown}, sent {sent}")
        checks("and the panel credential is hidden", shown.get("Authorization") == "(hidden)" and "panel-token" not in page.content())
        checks("the body is pretty-printed", '"event_type": "message"' in page.inner_text("#event-body"))
        no_xss("failed event")
        shoot("event-failed")
        panel.failing = False
        page.click("#redeliver")
        checks("Redeliver turns the event delivered, on the page", wait_for(lambda: "delivered" in page.inner_text("#event-status"), 15),
               page.inner_text("#event-status"))
        shoot("event-redelivered")

        # Two more failures (the second is tried once the first has failed), then bulk redelivery with
        # a confirmation that says how many.
        panel.failing = True
        say("ana", "m-f2", "tres")
        say("ana", "m-f3", "cuatro")
        checks("setup: two failed events", wait_for(
            lambda: len(api("GET", f"{base}/events?status=failed")["data"]["events"]) == 2, 15))
        failed_now = 2
        panel.failing = False
        page.click("nav a[href='#/events']")
        page.wait_for_selector("#bulk-since")
        page.fill("#bulk-since", time.strftime("%Y-%m-%dT%H:%M", time.localtime(time.time() - 3600)))
        page.click("#bulk-redeliver")
        page.wait_for_selector("dialog[open]")
        question = page.inner_text("#confirm-text")
        checks("the bulk confirmation says how many", f"Redeliver {failed_now} failed event" in question, question)
        shoot("events-bulk-confirm")
        page.click("#confirm-ok")
        checks("the bulk redelivery says how many were queued",
               wait_for(lambda: "queued for redelivery" in page.inner_text("main"), 10), page.inner_text("main")[:400])
        checks("and they are delivered", wait_for(lambda: not api("GET", f"{base}/events?status=failed")["data"]["events"], 20))

        page.click("nav a[href='#/integration']")
        page.wait_for_selector("#regenerate")
        shoot("integration")
        page.fill("#grace", "60")
        page.click("#regenerate")
        page.wait_for_selector("dialog[open]")
        page.click("#confirm-ok")
        page.wait_for_selector("[data-secret]")
        secret = page.inner_text("[data-secret]")
        checks("a regenerated secret is shown once, with a copy button", re.fullmatch(r"[0-9a-f]{64}", secret) is not None, secret)
        page.click(".secret button")
        checks("the copy button copies it", page.evaluate("navigator.clipboard.readText()") == secret)
        shoot("integration-secret")
        attempts = api("GET", f"{base}/events/{failed_id}")["data"]["attempts"]
        checks("after the regeneration, earlier attempts show no headers (their secret is gone)",
               all(attempt["requestHeaders"] is None for attempt in attempts), json.dumps(attempts)[:300])
        page.click("nav a[href='#/overview']")
        page.wait_for_selector("#health-title")
        page.click("nav a[href='#/integration']")
        page.wait_for_selector("#regenerate")
        checks("and not again", page.locator("[data-secret]").count() == 0 and secret not in page.content())
        page.fill("#webhook-url", "ftp://nowhere")
        page.click("#save-integration")
        page.wait_for_selector(".field-error")
        checks("the API's validation message is shown by the field", "webhookUrl" in page.inner_text(".field-error") or "https" in page.inner_text(".field-error"),
               page.inner_text(".field-error"))

        page.click("nav a[href='#/bots']")
        page.wait_for_selector("#create-bot")
        page.fill("#bot-name", "Care")
        page.fill("#bot-id", "care")
        page.click("#create-bot")
        page.wait_for_selector("[data-secret]")
        checks("a new bot's channel secret is shown once", re.fullmatch(r"[0-9a-f]{64}", page.inner_text("[data-secret]")) is not None)
        checks("the bot list shows names as text", f"Sales {SCRIPT}" in page.inner_text("main"))
        no_xss("bots")
        shoot("bots")

        page.select_option("#language", "es")
        wait_for(lambda: "Conversaciones" in page.inner_text("nav"), 10)
        checks("the console speaks Spanish when asked", "Conversaciones" in page.inner_text("nav") and page.evaluate("document.documentElement.lang") == "es")
        page.click("nav a[href='#/overview']")
        page.wait_for_selector("#health-title")
        shoot("overview-es")
        page.select_option("#language", "pt")
        wait_for(lambda: "Conversas" in page.inner_text("nav"), 10)
        checks("and Portuguese", "Visão geral" in page.inner_text("nav"))
        page.select_option("#language", "en")

        page.set_viewport_size({"width": 375, "height": 812})
        for name, link in [("overview", "#/overview"), ("conversation", f"#/conversations/{conversation}"), ("event", f"#/events/{failed_id}")]:
            page.evaluate(f"location.hash = {json.dumps(link)}")
            page.wait_for_timeout(600)
            width = page.evaluate("document.documentElement.scrollWidth")
            checks(f"375 px: the {name} page fits the width", width <= 375, f"scrollWidth {width}")
            shoot(f"{name}-375")
        page.set_viewport_size({"width": 1280, "height": 860})

        page.evaluate("location.hash = '#/overview'")
        page.wait_for_selector("#health-title")
        page.keyboard.press("Tab")
        first = page.evaluate("document.activeElement.textContent")
        for _ in range(3):
            page.keyboard.press("Tab")
        reached = page.evaluate("document.activeElement.getAttribute('href')")
        checks("the keyboard reaches the skip link, then the navigation", first == "Skip to content" and reached == "#/events", f"{first} {reached}")
        page.keyboard.press("Enter")
        checks("and Enter follows a link", wait_for(lambda: page.evaluate("location.hash").startswith("#/events"), 5))

        checks("no cookie is set", context.cookies() == [])
        checks("the key is not in localStorage", key not in page.evaluate("JSON.stringify(localStorage)"))
        checks("the key is in this tab's sessionStorage", key in page.evaluate("JSON.stringify(sessionStorage)"))
        checks("no request left for another origin", all(url.startswith(relevo.base + "/") for url in requests),
               str([url for url in requests if not url.startswith(relevo.base + "/")][:5]))
        checks("the key is in no URL", all(key not in url for url in requests))
        checks("no script error", not errors, str(errors))

        page.click("#sign-out")
        page.wait_for_selector("#api-key")
        checks("sign out forgets the key", key not in page.evaluate("JSON.stringify(sessionStorage)"))

        # A revoked key: the next call answers 401 and the console asks to sign in again.
        created = subprocess.run([arguments.binary, "projects", "keys", "create", "--project", project,
                                  "--database", f"sqlite://{directory}/relevo.sqlite"], capture_output=True, text=True, check=True)
        second = json.loads(created.stdout.strip().splitlines()[-1])["apiKey"]
        page.fill("#api-key", second)
        page.click("form.signin button[type=submit]")
        page.wait_for_selector("#health-title")
        subprocess.run([arguments.binary, "projects", "keys", "revoke", "--project", project, "--key-from-stdin",
                        "--database", f"sqlite://{directory}/relevo.sqlite"], input=second, capture_output=True, text=True, check=True)
        page.click("nav a[href='#/events']")
        page.wait_for_selector("#api-key")
        checks("a revoked key is sent back to sign in, with the reason", "no longer accepted" in page.inner_text("#sign-in-error"))
        shoot("revoked")
        no_xss("end")
        browser.close()
    print(f"screenshots: {', '.join(shot_names)} in {shots}")
finally:
    relevo.stop()
checks.finish(directory)
