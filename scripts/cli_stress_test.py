#!/usr/bin/env python3
"""CLI stress test: hundreds of `relevo projects …` writes on the SQLite file of a live server.

While users send channel messages through the API and the server delivers them to a panel, the
CLI runs against the same file: project creates, key creates, and key revokes, each revoked key
tried on the API right after (it must be refused at once). At the end: the server is alive and
was never restarted, `PRAGMA integrity_check` is ok, every project and key the CLI acknowledged
is in the file, and every message the API acknowledged reached the panel in order.
Prints `N passed, N failed`.

    python3 scripts/cli_stress_test.py [path/to/relevo] [--operations 300] [--conversations 8]
"""
import argparse, json, os, sqlite3, subprocess, sys, tempfile, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Checks, Panel, Relevo, in_order, order_report, send_messages, start_conversations, status_of, wait_for

parser = argparse.ArgumentParser()
parser.add_argument("binary", nargs="?", default=".build/debug/relevo")
parser.add_argument("--operations", type=int, default=300, help="CLI runs in all")
parser.add_argument("--conversations", type=int, default=8)
parser.add_argument("--pace", type=float, default=0.01, help="seconds between two messages of one user")
args = parser.parse_args()

directory = tempfile.mkdtemp(prefix="relevo-cli-stress-")
database = f"{directory}/relevo.sqlite"
panel = Panel()
server = Relevo(args.binary, directory, f"sqlite://{database}")
check = Checks()


def cli(*words):
    result = subprocess.run([args.binary, "projects", *words, "--database", f"sqlite://{database}"],
                            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        raise RuntimeError(f"relevo projects {' '.join(words)} exited {result.returncode}: {result.stderr.strip()}")
    return json.loads(result.stdout.splitlines()[0])


try:
    server.start()
    project, key = server.banner()
    conversations = start_conversations([server.base], project, key, panel.url, args.conversations)

    acknowledged = {index: [] for index in conversations}
    api_errors = []
    stop = threading.Event()

    users = [threading.Thread(target=send_messages, daemon=True,
                              args=(server.base, project, key, index, acknowledged, stop, api_errors, args.pace))
             for index in conversations]
    for thread in users:
        thread.start()

    projects, keys, revoked, refused_late, cli_errors = [project], {}, [], [], []
    started = time.time()
    for operation in range(args.operations):
        try:
            kind = operation % 3
            if kind == 0:
                created = cli("create", "--name", f"stress {operation}")
                projects.append(created["projectId"])
            elif kind == 1:
                created = cli("keys", "create", "--project", project)
                keys[created["keyId"]] = created["apiKey"]
                # A key the CLI just issued works on the live server's next request.
                status, _, _ = status_of(server.base, "GET", f"/v1/external-support/{project}", key=created["apiKey"])
                if status != 200:
                    refused_late.append(("new key refused", status))
            else:
                key_id = next(k for k in keys if k not in revoked)
                cli("keys", "revoke", "--project", project, "--key-id", key_id)
                revoked.append(key_id)
                status, body, _ = status_of(server.base, "GET", f"/v1/external-support/{project}", key=keys[key_id])
                if status != 401:
                    refused_late.append(("revoked key answered", status))
        except Exception as error:
            cli_errors.append(repr(error))
        if not server.alive():
            break
    elapsed = time.time() - started
    stop.set()
    for thread in users:
        thread.join(timeout=30)
    print(f"{args.operations} CLI runs in {elapsed:.1f} s: {len(projects) - 1} projects, {len(keys)} keys, "
          f"{len(revoked)} revoked; {sum(map(len, acknowledged.values()))} messages acknowledged meanwhile", flush=True)

    check("the server is alive after every CLI run", server.alive(),
          "" if server.alive() else f"exited {server.process.returncode}; stderr: {open(server.stderr).read()[-400:]}")
    check("every CLI run succeeded", not cli_errors, "; ".join(cli_errors[:3]))
    check("every API message was acknowledged", not api_errors, repr(api_errors[:3]))
    check("a new key works at once and a revoked key is refused on the next request", not refused_late, repr(refused_late[:3]))

    # Until every conversation has its acknowledged messages (counting arrivals would let other ones stand in).
    wait_for(lambda: not in_order(panel, conversations, acknowledged), 60)
    out_of_order = in_order(panel, conversations, acknowledged)
    check("every acknowledged message reached the panel, in order", not out_of_order,
          order_report(panel, conversations, acknowledged, out_of_order))

    # The file itself, read through SQLite while the server still runs.
    with sqlite3.connect(database, timeout=10) as db:
        integrity = db.execute("PRAGMA integrity_check").fetchall()
        stored_projects = {row[0] for row in db.execute("SELECT id FROM projects")}
        stored_keys = {row[0]: row[1] for row in db.execute("SELECT id, revoked_at FROM api_keys")}
    check("PRAGMA integrity_check is ok", integrity == [("ok",)], repr(integrity[:3]))
    missing_projects = [p for p in projects if p not in stored_projects]
    check("every project the CLI created is stored", not missing_projects, repr(missing_projects[:3]))
    missing_keys = [k for k in keys if k not in stored_keys]
    not_revoked = [k for k in revoked if stored_keys.get(k) is None]
    check("every key the CLI created is stored, revoked ones revoked", not missing_keys and not not_revoked,
          f"missing {missing_keys[:3]}, not revoked {not_revoked[:3]}")
finally:
    server.stop()

check.finish(directory)
