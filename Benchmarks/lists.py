#!/usr/bin/env python3
"""Benchmarks/lists.py: the list routes the console pages through, on SQLite and on PostgreSQL, at
1 000, 100 000 and 1 000 000 events (one conversation for every ten events: 100 000 at the largest).

For each size: `relevo serve` creates a SQLite store (project, integration, two bots), which is then
filled directly with users, rooms, conversations (a fifth of them active) and their events (97 %
delivered, 2 % failed, 1 % pending with their next attempt due the next day, so that no delivery
runs meanwhile; created over 30 days), then served; then `relevo copy` carries
the same store to a new PostgreSQL database, which is served too. Against each server, one client
on one keep-alive connection asks each route REQUESTS times in a row (after 20 warm-up requests):
a page of 50 of the event log (the first, the second by its cursor, the failed ones, one
conversation's), of the conversation list (the first, the closed ones, one bot's, one user's), and
GET /version, the baseline of the same run (the HTTP path and nothing else). It prints p50 and
p99 in milliseconds, and p50 as a multiple of the baseline's.

Usage: bash Benchmarks/lists.sh       (builds the release binary, then runs this)
       python3 Benchmarks/lists.py BIN [--sizes 1000,100000,1000000] [--requests 300]
"""
import argparse, http.client, json, os, random, sqlite3, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from harness import Relevo, call  # noqa: E402
from pg_server import PostgresServer  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("binary")
parser.add_argument("--sizes", default="1000,100000,1000000")
parser.add_argument("--requests", type=int, default=300)
arguments = parser.parse_args()
binary = os.path.abspath(arguments.binary)
os.environ["RELEVO_MASTER_KEY"] = "ab" * 32  # the same key for the SQLite store and its PostgreSQL copy
DAY = 86_400_000


def fill(path, project, events):
    """Users, rooms, conversations and events written straight into the SQLite file (no server running)."""
    conversations = max(1, events // 10)
    now = int(time.time() * 1000)
    start = now - 30 * DAY
    random.seed(7)
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("BEGIN")
    db.executemany("INSERT INTO end_users (project_id, id, names, reference_id, created_at, updated_at) VALUES (?,?,?,?,?,?)",
                   ((project, f"u{i}", f"User {i}", None, start, start) for i in range(conversations)))
    db.executemany("INSERT INTO rooms (project_id, id, bot_id, user_id, created_at) VALUES (?,?,?,?,?)",
                   ((project, f"r{i}", "sales" if i % 2 else "care", f"u{i}", start) for i in range(conversations)))
    step = (now - start) // conversations
    later = now + DAY  # pending events wait for a retry due tomorrow: no delivery runs while the lists are measured
    db.executemany(
        "INSERT INTO conversations (project_id, id, room_id, bot_id, user_id, state, start_at, end_at, ended_reason, assignment, metadata) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        ((project, f"c{i:08d}", f"r{i}", "sales" if i % 2 else "care", f"u{i}", "active" if i % 5 == 0 else "closed",
          start + i * step, None if i % 5 == 0 else start + i * step + 60_000, None if i % 5 == 0 else "closed_by_operator",
          None, '{"orderId":"A-%d"}' % i) for i in range(conversations)))

    def rows():
        per = events // conversations
        for n in range(events):
            i = min(n // per, conversations - 1)
            created = start + i * step + (n % per) * 1000
            roll = random.random()
            status = "delivered" if roll < 0.97 else "failed" if roll < 0.99 else "pending"
            kind = "conversation.start" if n % per == 0 else "message"
            yield (n + 1, f"evt_{n:024x}", project, "panel", None, f"panel:{project}:c{i:08d}", f"c{i:08d}", kind, status,
                   1 if status == "delivered" else 8 if status == "failed" else 0,
                   later if status == "pending" else created, created, None if status == "pending" else created + 150)

    db.executemany(
        "INSERT INTO events (seq, id, project_id, destination, bot_id, ordering_key, conversation_id, event_type, status, attempt_count, "
        "next_attempt_at, created_at, finished_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows())
    body = json.dumps({"field": "messages", "object": "message_event", "event_type": "message", "timestamp": now,
                       "project_id": project, "value": {"id": "m", "type": "text", "content": {"body": "x" * 120}}},
                      separators=(",", ":")).encode()
    db.executemany("INSERT INTO event_bodies (seq, body) VALUES (?, ?)", ((n + 1, body) for n in range(events)))
    db.execute("UPDATE conversation_items_indexed SET event_seq = ?, message_seq = 0", (events,))
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return conversations


def timings(base, path, key, requests):
    """p50 and p99 (ms) of `requests` GETs of `path` on one keep-alive connection."""
    host, port = base.replace("http://", "").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    headers = {"x-api-key": key}
    samples = []
    for index in range(20 + requests):
        began = time.perf_counter()
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        answer = response.read()
        if response.status != 200:
            raise SystemExit(f"GET {path} answered {response.status}: {answer[:200]!r}")
        if index >= 20:
            samples.append((time.perf_counter() - began) * 1000)
    connection.close()
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))]


def measure(relevo, project, key, conversations, label, results):
    base = f"/v1/external-support/{project}"
    first = call(relevo.base, "GET", f"{base}/events?limit=50", key=key)["data"]["nextCursor"]
    middle = f"c{conversations // 2:08d}"
    routes = [
        ("GET /version (baseline)", "/version"),
        ("events, first page", f"{base}/events?limit=50"),
        ("events, second page (cursor)", f"{base}/events?limit=50&cursor={first}"),
        ("events, status=failed", f"{base}/events?limit=50&status=failed"),
        ("events, one conversation", f"{base}/events?limit=50&conversationId={middle}"),
        ("conversations, first page", f"{base}/conversations?limit=50"),
        ("conversations, state=closed", f"{base}/conversations?limit=50&state=closed"),
        ("conversations, botId=care", f"{base}/conversations?limit=50&botId=care"),
        ("conversations, one user", f"{base}/conversations?limit=50&userId=u{conversations // 2}"),
    ]
    baseline = None
    for name, path in routes:
        p50, p99 = timings(relevo.base, path, key, arguments.requests)
        baseline = baseline or p50
        results.append((label, name, p50, p99, p50 / baseline))
        print(f"{label:28} {name:32} p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  {p50 / baseline:6.1f}× baseline", flush=True)


results = []
with PostgresServer() as pg:
    for size in [int(value) for value in arguments.sizes.split(",")]:
        directory = tempfile.mkdtemp(prefix=f"relevo-lists-{size}-")
        sqlite_url = f"sqlite://{directory}/relevo.sqlite"
        relevo = Relevo(binary, directory, sqlite_url, name="seed")
        relevo.start()
        project, key = relevo.banner()
        call(relevo.base, "POST", f"/v1/external-support/{project}", {"webhookUrl": "http://127.0.0.1:9/hook"}, key=key)
        for bot in ["sales", "care"]:
            call(relevo.base, "POST", f"/v1/projects/{project}/bots", {"id": bot, "name": bot.title()}, key=key)
        relevo.stop()
        began = time.time()
        conversations = fill(f"{directory}/relevo.sqlite", project, size)
        print(f"== {size} events, {conversations} conversations: filled in {time.time() - began:.1f} s", flush=True)

        relevo = Relevo(binary, directory, sqlite_url, name="sqlite")
        relevo.start()
        measure(relevo, project, key, conversations, f"SQLite, {size} events", results)
        relevo.stop()

        pg_url = pg.create_database(f"lists_{size}")
        began = time.time()
        copied = subprocess.run([binary, "copy", "--from", sqlite_url, "--to", pg_url], capture_output=True, text=True)
        if copied.returncode != 0:
            raise SystemExit(f"relevo copy failed: {copied.stderr}")
        print(f"== copied to PostgreSQL in {time.time() - began:.1f} s", flush=True)
        subprocess.run(["psql", "-q", pg_url, "-c", "VACUUM ANALYZE"], check=False,
                       env=dict(os.environ, PATH=f"/usr/lib/postgresql/15/bin:{os.environ['PATH']}"), capture_output=True)
        relevo = Relevo(binary, directory, pg_url, name="postgres")
        relevo.start()
        measure(relevo, project, key, conversations, f"PostgreSQL, {size} events", results)
        relevo.stop()

print("\n| store, size | route | p50 ms | p99 ms | p50 × baseline |\n|---|---|---|---|---|")
for label, name, p50, p99, ratio in results:
    print(f"| {label} | {name} | {p50:.2f} | {p99:.2f} | {ratio:.1f} |")
