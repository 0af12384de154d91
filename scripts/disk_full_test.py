#!/usr/bin/env python3
"""Disk-full test: Relevo's SQLite file on a small tmpfs that fills up under a message load.

Needs root (it mounts the tmpfs). Users send channel messages without pause, each resending the
same message id after a 503 as a channel would (the id makes it idempotent). Two ways the disk
fills, each followed by space coming back, on one server that is never restarted:

1. a file fills the rest of the filesystem: commits and checkpoints fail, until it is removed;
2. a reader outside Relevo holds a snapshot open, so no WAL checkpoint can complete and the WAL
   grows until it fills the filesystem; the reader then goes and the filesystem is enlarged.

While full, every write must answer 503 in the error envelope with `Retry-After` (never a 500,
never a crash) and `GET /health` must say the store is failing; afterwards Relevo must accept and
deliver again by itself. At the end every acknowledged message has reached the panel, in order,
and `PRAGMA integrity_check` is ok. Prints `N passed, N failed`.

    sudo python3 scripts/disk_full_test.py [path/to/relevo] [--size-mb 48]
"""
import argparse, os, sqlite3, subprocess, sys, tempfile, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Checks, Panel, Relevo, in_order, order_report, start_conversations, status_of, wait_for

parser = argparse.ArgumentParser()
parser.add_argument("binary", nargs="?", default=".build/debug/relevo")
parser.add_argument("--size-mb", type=int, default=48, help="size of the tmpfs the database lives on")
parser.add_argument("--conversations", type=int, default=8)
args = parser.parse_args()
if os.geteuid() != 0:
    raise SystemExit("the disk-full test mounts a tmpfs: run it as root")

directory = tempfile.mkdtemp(prefix="relevo-disk-full-")
mount = f"{directory}/disk"
os.makedirs(mount)
subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={args.size_mb}m", "tmpfs", mount], check=True)
database = f"{mount}/relevo.sqlite"
panel = Panel()
server = Relevo(args.binary, directory, f"sqlite://{database}")
check = Checks()



def fill(path):
    """Writes zeros into `path` until the filesystem refuses even one more byte."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for size in (256 * 1024, 4096, 512, 1):
            try:
                while True:
                    os.write(descriptor, b"\0" * size)
            except OSError:
                continue
    finally:
        os.close(descriptor)


try:
    server.start()
    project, key = server.banner()
    conversations = start_conversations([server.base], project, key, panel.url, args.conversations)

    acknowledged = {index: [] for index in conversations}
    refusals = {"503": 0, "bad 503": [], "other": []}
    lock, stop = threading.Lock(), threading.Event()

    def user(index):
        number = 0
        pad = "x" * 2000  # bigger messages fill the disk sooner
        while not stop.is_set():
            message = f"c{index}-m{number}"
            status, body, headers = status_of(server.base, "POST", f"/v1/projects/{project}/channel/messages",
                                              {"botId": "bot", "userId": f"u{index}",
                                               "value": {"id": message, "type": "text", "content": {"body": message + pad}}}, key)
            with lock:
                if status == 200:
                    acknowledged[index].append(message)
                    number += 1
                    continue
                if status == 503:
                    refusals["503"] += 1
                    envelope_ok = isinstance(body, dict) and body.get("statusMessage") == "failed" \
                        and body.get("error", {}).get("key") == "SERVICE_UNAVAILABLE" and headers.get("Retry-After")
                    if not envelope_ok:
                        refusals["bad 503"].append(repr(body)[:200])
                else:
                    refusals["other"].append((status, repr(body)[:200]))
            time.sleep(0.05)  # a channel waits before it sends the same message again

    def total():
        with lock:
            return sum(map(len, acknowledged.values()))

    def health():
        return status_of(server.base, "GET", "/health")

    users = [threading.Thread(target=user, args=(index,), daemon=True) for index in conversations]
    for thread in users:
        thread.start()
    time.sleep(1)

    # 1. A file takes the rest of the disk.
    before = total()
    fill(f"{mount}/filler")
    seen_full = wait_for(lambda: refusals["503"] > 0, 30)
    check("with the disk full, writes answer 503 (SERVICE_UNAVAILABLE, Retry-After)",
          seen_full and not refusals["bad 503"], f"{refusals['503']} 503s, malformed: {refusals['bad 503'][:2]}")
    status, body, _ = health()
    check("with the disk full, /health says the store is failing", status == 503 and (body or {}).get("store") == "down", f"{status} {body}")
    time.sleep(2)
    os.remove(f"{mount}/filler")
    at_free = total()
    resumed = wait_for(lambda: total() > at_free + 50, 30)
    check("space back: messages are accepted again without a restart", resumed and server.alive(), f"{at_free} → {total()}")
    check("space back: /health is ok again", wait_for(lambda: health()[0] == 200, 15), f"{health()[:2]}")
    print(f"phase 1: {before} acknowledged before the fill, {at_free} when space came back, {refusals['503']} 503s", flush=True)

    # 2. A snapshot held outside Relevo: no checkpoint completes, the WAL grows until the disk is full.
    refused_before = refusals["503"]
    reader = sqlite3.connect(database, timeout=10, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT COUNT(*) FROM events").fetchone()
    wal_full = wait_for(lambda: refusals["503"] > refused_before, 120)
    wal_size = os.path.getsize(database + "-wal") if os.path.exists(database + "-wal") else 0
    check("a WAL that cannot be checkpointed fills the disk: writes answer 503", wal_full and not refusals["bad 503"],
          f"WAL {wal_size} bytes, {refusals['503'] - refused_before} new 503s")
    status, body, _ = health()
    check("with the WAL stuck on a full disk, /health says the store is failing", status == 503, f"{status} {body}")
    reader.execute("COMMIT")
    reader.close()
    subprocess.run(["mount", "-o", f"remount,size={args.size_mb * 4}m", mount], check=True)
    at_free = total()
    resumed = wait_for(lambda: total() > at_free + 50, 30)
    check("reader gone and disk enlarged: messages are accepted again without a restart", resumed and server.alive(),
          f"{at_free} → {total()}")
    check("…and /health is ok again", wait_for(lambda: health()[0] == 200, 15), f"{health()[:2]}")
    print(f"phase 2: the WAL reached {wal_size // 1024} KiB; {refusals['503'] - refused_before} 503s", flush=True)

    time.sleep(1)
    stop.set()
    for thread in users:
        thread.join(timeout=30)
    check("no answer other than 200 or 503 (no 500, no dropped connection)", not refusals["other"], repr(refusals["other"][:3]))
    check("the server never died", server.alive())

    expected = total()
    # Until every conversation has its acknowledged messages (counting arrivals would let other ones stand in).
    wait_for(lambda: not in_order(panel, conversations, acknowledged), 60)
    out_of_order = in_order(panel, conversations, acknowledged)
    _, duplicates = panel.first_arrivals()
    check("every acknowledged message reached the panel, in order", not out_of_order, order_report(panel, conversations, acknowledged, out_of_order))
    print(f"{expected} messages acknowledged, {refusals['503']} answers 503, {duplicates} duplicate deliveries", flush=True)
    with sqlite3.connect(database, timeout=10) as db:
        integrity = db.execute("PRAGMA integrity_check").fetchall()
    check("PRAGMA integrity_check is ok", integrity == [("ok",)], repr(integrity[:3]))
finally:
    server.stop()
    subprocess.run(["umount", "-l", mount])

check.finish(directory)
