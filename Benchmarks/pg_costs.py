#!/usr/bin/env python3
"""Benchmarks/pg_costs.py: what one delivered event costs on PostgreSQL, and where.

One Relevo instance on a throwaway PostgreSQL 15 (default durability, pg_stat_statements loaded)
delivers MESSAGES channel messages (CONCURRENCY users at once) to a panel that answers 200 at once.
Between two snapshots taken around that load it counts, per delivered event: transactions
committed, WAL bytes and records, statements (round trips) and the statements that take the most
time, and the CPU of the Relevo process and of PostgreSQL's processes. The same run on SQLite gives
the baseline: its CPU per event, against which both of PostgreSQL's figures are printed as ratios.

    python3 Benchmarks/pg_costs.py [path/to/relevo]     (default: the release build in .build-bench)
    Env: MESSAGES (default 4000), CONCURRENCY (default 32), CONVERSATIONS (default 200)
"""
import os, sys, tempfile, threading, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
from harness import Panel, Relevo, cpu_seconds, postgres_pids, start_conversations, status_of, wait_for
from pg_server import PostgresServer

binary = sys.argv[1] if len(sys.argv) > 1 else ".build-bench/release/relevo"
messages = int(os.environ.get("MESSAGES", "4000"))
concurrency = int(os.environ.get("CONCURRENCY", "32"))
conversation_count = int(os.environ.get("CONVERSATIONS", "200"))


def load(server, project, key, panel, conversations):
    """Sends `messages` channel messages over the conversations; returns once all reached the panel."""
    counter = iter(range(messages))
    lock = threading.Lock()

    def user():
        while True:
            with lock:
                number = next(counter, None)
            if number is None:
                return
            index = number % len(conversations)
            message = f"m{number}"
            status_of(server.base, "POST", f"/v1/projects/{project}/channel/messages",
                      {"botId": "bot", "userId": f"u{index}", "value": {"id": message, "type": "text", "content": {"body": message}}}, key)

    threads = [threading.Thread(target=user) for _ in range(concurrency)]
    started = time.time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wait_for(lambda: sum(1 for arrival in panel.first_arrivals()[0] if arrival[2] == "message") >= messages, 300)
    return time.time() - started


def run(database_url, directory, pg=None):
    panel = Panel()
    server = Relevo(binary, directory, database_url, name="postgres" if pg else "sqlite",
                    env={"RELEVO_MASTER_KEY": "ab" * 32} if pg else None)
    try:
        server.start()
        project, key = server.banner()
        conversations = start_conversations([server.base], project, key, panel.url, conversation_count)
        wait_for(lambda: len(panel.first_arrivals()[0]) >= conversation_count, 60)
        before = {}
        if pg:
            pg.psql("SELECT pg_stat_statements_reset()", dbname="relevo")
            before["commits"] = int(pg.psql("SELECT xact_commit FROM pg_stat_database WHERE datname = 'relevo'").strip())
            before["wal"] = pg.psql("SELECT wal_bytes || ' ' || wal_records FROM pg_stat_wal").split()
            before["pg_cpu"] = cpu_seconds(postgres_pids(pg.directory))
        before["relevo_cpu"] = cpu_seconds([server.process.pid])
        seconds = load(server, project, key, panel, conversations)
        result = {"seconds": seconds, "relevo_cpu": (cpu_seconds([server.process.pid]) - before["relevo_cpu"]) / messages}
        if pg:
            result["pg_cpu"] = (cpu_seconds(postgres_pids(pg.directory)) - before["pg_cpu"]) / messages
            commits = int(pg.psql("SELECT xact_commit FROM pg_stat_database WHERE datname = 'relevo'").strip())
            result["commits"] = (commits - before["commits"]) / messages
            wal = pg.psql("SELECT wal_bytes || ' ' || wal_records FROM pg_stat_wal").split()
            result["wal_bytes"] = (int(wal[0]) - int(before["wal"][0])) / messages
            result["wal_records"] = (int(wal[1]) - int(before["wal"][1])) / messages
            statements = pg.psql(
                "SELECT calls || '|' || round(total_exec_time::numeric, 1) || '|' || left(regexp_replace(query, '\\s+', ' ', 'g'), 90) "
                "FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'relevo') "
                "ORDER BY total_exec_time DESC", dbname="relevo").strip().splitlines()
            rows = [line.split("|", 2) for line in statements if line.count("|") >= 2]
            result["statements"] = sum(int(calls) for calls, _, _ in rows) / messages
            result["top"] = [(int(calls) / messages, float(ms) / messages, query) for calls, ms, query in rows[:8]]
        return result
    finally:
        server.stop()
        panel.server.shutdown()


directory = tempfile.mkdtemp(prefix="relevo-pg-costs-")
pg = PostgresServer(settings={"shared_preload_libraries": "'pg_stat_statements'", "track_io_timing": "on"})
try:
    print(f"== SQLite, {messages} messages, {concurrency} at once", file=sys.stderr)
    sqlite = run(f"sqlite://{directory}/relevo.sqlite", directory)
    pg.start()
    url = pg.create_database("relevo")
    pg.psql("CREATE EXTENSION pg_stat_statements", dbname="relevo")
    print(f"== PostgreSQL, the same", file=sys.stderr)
    postgres = run(url, directory, pg)
finally:
    pg.stop()

print(f"\nper delivered event, {messages} channel messages, {concurrency} at once, one instance")
print(f"  SQLite     : {messages / sqlite['seconds']:7.0f} events/s, Relevo {sqlite['relevo_cpu'] * 1e3:.3f} ms CPU (the baseline)")
print(f"  PostgreSQL : {messages / postgres['seconds']:7.0f} events/s, Relevo {postgres['relevo_cpu'] * 1e3:.3f} ms CPU "
      f"({postgres['relevo_cpu'] / sqlite['relevo_cpu']:.2f}x the baseline), PostgreSQL {postgres['pg_cpu'] * 1e3:.3f} ms CPU "
      f"({postgres['pg_cpu'] / sqlite['relevo_cpu']:.2f}x the baseline)")
print(f"               {postgres['commits']:.2f} transactions committed, {postgres['statements']:.2f} statements, "
      f"{postgres['wal_records']:.1f} WAL records, {postgres['wal_bytes'] / 1024:.2f} KiB of WAL")
print("  statements taking the most time (per event: calls, ms):")
for calls, ms, query in postgres["top"]:
    print(f"    {calls:5.2f}  {ms:6.3f}  {query}")
