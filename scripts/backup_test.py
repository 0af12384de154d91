#!/usr/bin/env python3
"""Backup test: `relevo backup` of a SQLite store while its server accepts and delivers messages.

Users send channel messages through the API the whole time; in the middle, `relevo backup` copies
the live file. The backup must pass `PRAGMA integrity_check`, hold every message acknowledged
before the backup began and, per conversation, a prefix of what was acknowledged by its end (the
database as of one commit); its key file must be the source's. A second server started on the
backup serves the same API key and delivers. The live server is never disturbed. Bad input gets one
line and a non-zero exit, and nothing is written. Prints `N passed, N failed`.

    python3 scripts/backup_test.py [path/to/relevo] [--conversations 6]
"""
import argparse, json, os, sqlite3, subprocess, sys, tempfile, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Checks, Panel, Relevo, send_messages, start_conversations, status_of, wait_for

parser = argparse.ArgumentParser()
parser.add_argument("binary", nargs="?", default=".build/debug/relevo")
parser.add_argument("--conversations", type=int, default=6)
args = parser.parse_args()

directory = tempfile.mkdtemp(prefix="relevo-backup-")
database = f"{directory}/live/relevo.sqlite"
copy = f"{directory}/copy/relevo.sqlite"
panel = Panel()
server = Relevo(args.binary, directory, f"sqlite://{database}")
restored = Relevo(args.binary, directory, f"sqlite://{copy}", name="restored")
check = Checks()


def backup(*words):
    return subprocess.run([args.binary, "backup", *words], capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)


try:
    server.start()
    project, key = server.banner()
    conversations = start_conversations([server.base], project, key, panel.url, args.conversations)
    acknowledged = {index: [] for index in conversations}
    stop = threading.Event()
    refused = []
    users = [threading.Thread(target=send_messages, args=(server.base, project, key, index, acknowledged, stop, refused))
             for index in conversations]
    for thread in users:
        thread.start()
    time.sleep(1.5)
    before = {index: list(messages) for index, messages in acknowledged.items()}
    started = time.time()
    result = backup("--database", f"sqlite://{database}", "--to", copy)
    took = time.time() - started
    time.sleep(1.0)
    stop.set()
    for thread in users:
        thread.join()
    total = sum(len(messages) for messages in acknowledged.values())
    print(f"backup in {took:.2f} s while {total} messages were acknowledged in all")

    check("relevo backup of a live server exits 0", result.returncode == 0, result.stderr.strip())
    check("no message was refused meanwhile", not refused, refused[:3])
    line = json.loads(result.stdout.splitlines()[0]) if result.returncode == 0 else {}
    check("it reports the file, its size and the key file beside it",
          line.get("backup") == copy and line.get("bytes", 0) > 0 and line.get("keyFile") == f"{directory}/copy/relevo.key", line)
    check("it reminds that the key goes with the backup", "keep" in result.stderr and "relevo.key" in result.stderr, result.stderr)
    check("the key file beside the backup is the source's",
          os.path.exists(f"{directory}/copy/relevo.key")
          and open(f"{directory}/copy/relevo.key", "rb").read() == open(f"{directory}/live/relevo.key", "rb").read())

    db = sqlite3.connect(copy)
    integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
    stored = {}
    for conversation_id, message in db.execute("SELECT conversation_id, id FROM messages WHERE direction = 'user' ORDER BY seq"):
        stored.setdefault(conversation_id, []).append(message)
    db.close()
    check("the backup passes PRAGMA integrity_check", integrity == "ok", integrity)
    missing = [index for index, conversation in conversations.items()
               if stored.get(conversation, [])[:len(before[index])] != before[index]]
    check("every message acknowledged before the backup began is in it", not missing, missing)
    not_prefix = [index for index, conversation in conversations.items()
                  if stored.get(conversation, []) != acknowledged[index][:len(stored.get(conversation, []))]]
    check("each conversation in the backup is a prefix of what was acknowledged (one commit's state)", not not_prefix, not_prefix)
    check("the live server kept serving throughout", server.alive() and status_of(server.base, "GET", "/health")[0] == 200)

    restored.start()
    status, _, _ = status_of(restored.base, "GET", f"/v1/external-support/{project}", key=key)
    check("a server started on the backup accepts the original API key", status == 200, status)
    status, _, _ = status_of(restored.base, "POST", f"/v1/projects/{project}/channel/messages",
                             {"botId": "bot", "userId": "u0", "value": {"id": "after-restore", "type": "text",
                                                                       "content": {"body": "after restore"}}}, key)
    check("and accepts new messages", status == 200, status)
    check("which reach the panel, signed and delivered",
          wait_for(lambda: "after-restore" in panel.messages_of(conversations[0]), 20))
    restored.stop()

    again = backup("--database", f"sqlite://{database}", "--to", copy)
    check("a backup onto an existing file is refused in one line, exit 1",
          again.returncode == 1 and len(again.stderr.strip().splitlines()) == 1 and "already exists" in again.stderr, again.stderr)
    postgres = backup("--database", "postgres://relevo@127.0.0.1:1/relevo", "--to", f"{directory}/pg.sqlite")
    check("a PostgreSQL URL is refused with the pg_dump advice, nothing written",
          postgres.returncode != 0 and "pg_dump" in postgres.stderr and not os.path.exists(f"{directory}/pg.sqlite"), postgres.stderr)
    absent = backup("--database", f"sqlite://{directory}/none.sqlite", "--to", f"{directory}/none-copy.sqlite")
    check("a missing source is refused, nothing written",
          absent.returncode == 1 and "no SQLite database" in absent.stderr and not os.path.exists(f"{directory}/none-copy.sqlite"),
          absent.stderr)
finally:
    stop_all = [restored, server]
    for process in stop_all:
        process.stop()
    panel.server.shutdown()
check.finish(directory)
