#!/usr/bin/env python3
"""Copy test: `relevo copy` from SQLite to PostgreSQL and back, with deliveries waiting.

A SQLite store has conversations mid-flight whose events wait for a panel that is down (their
failed attempts recorded). It is copied to PostgreSQL; Relevo starts there; the panel comes up; every
waiting event arrives, in order per conversation, with its original `webhook-id`, signed with the
original secret; the API key still works and the event log shows the old attempts. Then the
PostgreSQL store is copied back to a new SQLite file and serves the same way. Bad input (a target
that holds data, a wrong master key, a source a server holds, an unreachable database, a source
newer than the binary) gets one line and exit 1, and nothing is written. Prints `N passed, N failed`.

    python3 scripts/copy_test.py [path/to/relevo] [--conversations 3] [--messages 4]
"""
import argparse, hashlib, hmac, json, os, shutil, sqlite3, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Checks, Panel, Relevo, call, status_of, wait_for
from pg_server import PostgresServer, free_port

parser = argparse.ArgumentParser()
parser.add_argument("binary", nargs="?", default=".build/debug/relevo")
parser.add_argument("--conversations", type=int, default=3)
parser.add_argument("--messages", type=int, default=4)
args = parser.parse_args()

directory = tempfile.mkdtemp(prefix="relevo-copy-")
first = f"{directory}/first/relevo.sqlite"
back = f"{directory}/back/relevo.sqlite"
panel_port = free_port()
panel_url = f"http://127.0.0.1:{panel_port}/hook"
check = Checks()
pg = PostgresServer()
servers = []


def copy(source, target, env=None):
    return subprocess.run([args.binary, "copy", "--from", source, "--to", target], capture_output=True, text=True,
                          timeout=300, stdin=subprocess.DEVNULL, env=dict(os.environ, **(env or {})))


def serve(name, url, env=None, extra=()):
    server = Relevo(args.binary, directory, url, name=name, env=env, extra=extra)
    servers.append(server)
    server.start()
    return server


def panel_events(base, project, key):
    """The project's panel events, oldest first, as the event log lists them."""
    listed = call(base, "GET", f"/v1/external-support/{project}/events?limit=200", key=key)["data"]["events"]
    return [event for event in reversed(listed) if event["destination"] == "panel"]


def one_line_refusal(result, words):
    lines = result.stderr.strip().splitlines()
    return result.returncode == 1 and len(lines) == 1 and words in lines[0]


try:
    pg.start()
    pg_url = pg.create_database("relevo_copy")

    # A SQLite store with deliveries waiting for a panel that is down.
    # Retries spread over a minute: the events must still be waiting, not given up, when copied.
    source = serve("first", f"sqlite://{first}", extra=("--retry-schedule", ",".join(["200ms"] + ["5s"] * 12)))
    project, key = source.banner()
    secret = call(source.base, "POST", f"/v1/external-support/{project}", {"webhookUrl": panel_url}, key)["data"]["signingSecret"]
    call(source.base, "POST", f"/v1/projects/{project}/bots", {"id": "bot", "name": "Bot"}, key)
    conversations = {}
    for index in range(args.conversations):
        call(source.base, "PUT", f"/v1/projects/{project}/users/u{index}", {"names": f"User {index}"}, key)
        conversations[index] = call(source.base, "POST", f"/v1/external-support/{project}/conversations/start",
                                    {"botId": "bot", "userId": f"u{index}"}, key)["data"]["_id"]
        for number in range(args.messages):
            call(source.base, "POST", f"/v1/projects/{project}/channel/messages",
                 {"botId": "bot", "userId": f"u{index}",
                  "value": {"id": f"c{index}-m{number}", "type": "text", "content": {"body": f"message {number}"}}}, key)
    waiting = panel_events(source.base, project, key)
    heads = [[e for e in waiting if e["conversationId"] == c][0]["id"] for c in conversations.values()]
    tried = wait_for(lambda: all(e["attemptCount"] >= 1 for e in panel_events(source.base, project, key) if e["id"] in heads), 20)
    check("the events wait for the panel, each conversation's first with failed attempts recorded",
          tried and len(waiting) == args.conversations * (args.messages + 1), len(waiting))
    order = {conversation: [event["id"] for event in waiting if event["conversationId"] == conversation]
             for conversation in conversations.values()}

    held = copy(f"sqlite://{first}", pg_url)
    check("a SQLite source a running server holds is refused in one line", one_line_refusal(held, "relevo serve"), held.stderr)
    source.stop()

    key_text = open(f"{directory}/first/relevo.key").read().strip()
    wrong = copy(f"sqlite://{first}", pg_url, env={"RELEVO_MASTER_KEY": "ab" * 32})
    check("a master key that does not open the source's secrets is refused", one_line_refusal(wrong, "does not open"), wrong.stderr)
    mistyped = copy("mysql://relevo@127.0.0.1/relevo", pg_url)
    check("a database URL of another kind is refused in one line", one_line_refusal(mistyped, "--from"), mistyped.stderr)
    unreachable = copy(f"sqlite://{first}", "postgres://relevo@127.0.0.1:1/relevo?sslmode=disable")
    check("an unreachable target is refused in one line", one_line_refusal(unreachable, "--to"), unreachable.stderr)
    newer = f"{directory}/newer/relevo.sqlite"
    os.makedirs(os.path.dirname(newer))
    shutil.copy(first, newer)
    shutil.copy(f"{directory}/first/relevo.key", f"{directory}/newer/relevo.key")
    db = sqlite3.connect(newer)
    db.execute("INSERT INTO grdb_migrations (identifier) VALUES ('999_from_the_future')")
    db.commit()
    db.close()
    future = copy(f"sqlite://{newer}", f"sqlite://{directory}/future/relevo.sqlite")
    check("a source written by a newer relevo is refused, nothing written",
          one_line_refusal(future, "newer relevo") and not os.path.exists(f"{directory}/future/relevo.sqlite"), future.stderr)
    check("nothing was written to PostgreSQL by the refused copies",
          pg.psql("SELECT to_regclass('projects') IS NULL", dbname="relevo_copy").strip() == "t")

    # SQLite → PostgreSQL.
    result = copy(f"sqlite://{first}", pg_url)
    check("relevo copy SQLite → PostgreSQL exits 0", result.returncode == 0, result.stderr)
    copied = json.loads(result.stdout.splitlines()[0])["copied"] if result.returncode == 0 else {}
    check("it reports the counts it copied", copied.get("events") == len(waiting) and copied.get("projects") == 1, copied)
    again = copy(f"sqlite://{first}", pg_url)
    check("a target that already holds data is refused in one line", one_line_refusal(again, "already holds data"), again.stderr)

    on_pg = serve("on-postgres", pg_url, env={"RELEVO_MASTER_KEY": key_text})
    check("the API key works on PostgreSQL", status_of(on_pg.base, "GET", f"/v1/external-support/{project}", key=key)[0] == 200)
    logged = call(on_pg.base, "GET", f"/v1/external-support/{project}/events/{heads[0]}", key=key)["data"]
    check("the event log shows the attempts made before the copy",
          len(logged["attempts"]) >= 1 and logged["attempts"][0]["errorClass"] is not None, logged.get("attempts"))
    panel = Panel(port=panel_port)
    arrived = wait_for(lambda: all(order[c] == [i for (i, conv, _, _) in panel.first_arrivals()[0] if conv == c][:len(order[c])]
                                   for c in order), 30)
    check("every waiting event arrives, in order per conversation, with its original webhook-id", arrived,
          {c: [i for (i, conv, _, _) in panel.first_arrivals()[0] if conv == c] for c in order})
    unsigned = [webhook for webhook, (raw, signature) in panel.bodies.items()
                if signature != "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()]
    check("each is signed with the original secret", panel.bodies and not unsigned, unsigned)
    call(on_pg.base, "POST", f"/v1/projects/{project}/channel/messages",
         {"botId": "bot", "userId": "u0", "value": {"id": "on-postgres", "type": "text", "content": {"body": "after the copy"}}}, key)
    check("a message sent after the copy follows them", wait_for(lambda: "on-postgres" in panel.messages_of(conversations[0]), 20))
    delivered = panel_events(on_pg.base, project, key)
    on_pg.stop()

    # PostgreSQL → SQLite.
    result = copy(pg_url, f"sqlite://{back}", env={"RELEVO_MASTER_KEY": key_text})
    check("relevo copy PostgreSQL → SQLite exits 0", result.returncode == 0, result.stderr)
    on_sqlite = serve("back", f"sqlite://{back}", env={"RELEVO_MASTER_KEY": key_text})
    check("the API key works on the SQLite copy", status_of(on_sqlite.base, "GET", f"/v1/external-support/{project}", key=key)[0] == 200)
    history = call(on_sqlite.base, "GET", f"/v1/external-support/{project}/conversations/{conversations[0]}?include=messages",
                   key=key)["data"]["messages"]
    check("the history comes back in order",
          [m["id"] for m in history if m["direction"] == "user"] == [f"c0-m{n}" for n in range(args.messages)] + ["on-postgres"],
          [m["id"] for m in history])
    again_log = panel_events(on_sqlite.base, project, key)
    check("the event log comes back with each event's status and attempts",
          [(e["id"], e["status"], e["attemptCount"]) for e in again_log] == [(e["id"], e["status"], e["attemptCount"]) for e in delivered],
          again_log[:3])
    call(on_sqlite.base, "POST", f"/v1/projects/{project}/channel/messages",
         {"botId": "bot", "userId": "u0", "value": {"id": "back-on-sqlite", "type": "text", "content": {"body": "and back"}}}, key)
    check("and delivers what comes next", wait_for(lambda: "back-on-sqlite" in panel.messages_of(conversations[0]), 20))
    repeat = call(on_sqlite.base, "POST", f"/v1/projects/{project}/channel/messages",
                  {"botId": "bot", "userId": "u0", "value": {"id": "c0-m0", "type": "text", "content": {"body": "message 0"}}}, key)
    check("idempotency records came along: a repeat of a copied message gets its first answer, nothing new",
          repeat["data"]["conversationId"] == conversations[0]
          and panel.messages_of(conversations[0]).count("c0-m0") == 1)
    panel.server.shutdown()
finally:
    for server in servers:
        server.stop()
    pg.stop()
check.finish(directory)
