#!/usr/bin/env python3
"""Benchmarks/pg_load_costs.py: what one delivered event costs on PostgreSQL at saturation, with one
instance or several sharing the database.

INSTANCES `relevo serve` processes share a throwaway PostgreSQL 15 (default durability,
pg_stat_statements loaded); Benchmarks/delivery.mjs drives them as in instances.sh (wrk for
SECONDS_A seconds, then SECONDS at a fixed 500 events/s) against Benchmarks/panel.mjs. Between two
snapshots taken around the load it prints, per event: transactions committed (read-only ones
included, as `pg_stat_database` counts them), statements (round trips), WAL, the CPU of PostgreSQL's processes and of the instances, and the statements that take
the most time. pg_costs.py gives the same figures at a lower rate, with SQLite beside them.

    python3 Benchmarks/pg_load_costs.py [path/to/relevo]   (default: the release build in .build-bench)
    Env: INSTANCES (default 1), SECONDS_A (default 10), SECONDS (default 3)
"""
import json, os, subprocess, sys, tempfile

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(root, "scripts"))
from harness import Relevo, cpu_seconds, postgres_pids
from pg_server import PostgresServer

binary = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.join(root, ".build-bench/release/relevo")
count = int(os.environ.get("INSTANCES", "1"))
os.chdir(root)
env = {"RELEVO_MASTER_KEY": "ab" * 32}
jemalloc = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"
if os.path.exists(jemalloc):
    env["LD_PRELOAD"] = jemalloc  # as instances.sh runs them

panel = subprocess.Popen(["node", "Benchmarks/panel.mjs"], stdout=subprocess.PIPE, text=True)
pg = PostgresServer(settings={"shared_preload_libraries": "'pg_stat_statements'"})
servers = []
try:
    panel_info = json.loads(panel.stdout.readline())
    directory = tempfile.mkdtemp(prefix="relevo-pg-load-")
    pg.start()
    url = pg.create_database("relevo")
    query = lambda sql: pg.psql(sql, dbname="relevo").strip()
    query("CREATE EXTENSION pg_stat_statements")
    for number in range(count):
        servers.append(Relevo(binary, directory, url, name=f"relevo-{number + 1}", env=env))
        servers[-1].start()
    project, key = servers[0].banner()
    pids = [server.process.pid for server in servers]

    def snapshot():
        wal_bytes, wal_records = query("SELECT wal_bytes || ' ' || wal_records FROM pg_stat_wal").split()
        return {"commits": int(query("SELECT xact_commit FROM pg_stat_database WHERE datname = 'relevo'")),
                "wal_bytes": int(wal_bytes), "wal_records": int(wal_records),
                "pg_cpu": cpu_seconds(postgres_pids(pg.directory)), "relevo_cpu": cpu_seconds(pids)}

    query("SELECT pg_stat_statements_reset()")
    before = snapshot()
    load_env = dict(os.environ, RATE="500", SECONDS=os.environ.get("SECONDS", "3"),
                    PANEL_URL=f"http://127.0.0.1:{panel_info['port']}", PANEL_START_NS=str(panel_info["start"]))
    load = subprocess.run(["node", "Benchmarks/delivery.mjs", ",".join(server.base for server in servers), project, key],
                          env=load_env, capture_output=True, text=True)
    print(load.stdout, end="")
    if load.returncode != 0:
        sys.exit(f"delivery.mjs failed ({load.returncode}):\n{load.stderr}")
    after = snapshot()
    events = int(query("SELECT count(*) FROM events"))
    rows = [line.split("|", 2) for line in query(
        "SELECT calls || '|' || round(total_exec_time::numeric, 1) || '|' || left(regexp_replace(query, '\\s+', ' ', 'g'), 90) "
        "FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'relevo') "
        "ORDER BY total_exec_time DESC").splitlines() if line.count("|") >= 2]
    per = lambda name: (after[name] - before[name]) / events
    print(f"\nper event, {events} events, {count} instance(s) (the conversations' starts included):")
    print(f"  {per('commits'):.2f} transactions committed, {sum(int(calls) for calls, _, _ in rows) / events:.2f} statements, "
          f"{per('wal_records'):.1f} WAL records, {per('wal_bytes') / 1024:.2f} KiB of WAL")
    print(f"  CPU: PostgreSQL {per('pg_cpu') * 1e3:.3f} ms, Relevo {per('relevo_cpu') * 1e3:.3f} ms (all instances)")
    print("  statements taking the most time (per event: calls, ms of execution; per call: ms):")
    for calls, ms, text in rows[:10]:
        print(f"    {int(calls) / events:5.3f}  {float(ms) / events:6.3f}  {float(ms) / max(1, int(calls)):6.3f}  {text}")
finally:
    for server in servers:
        server.stop()
    pg.stop()
    panel.kill()
