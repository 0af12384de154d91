#!/usr/bin/env python3
"""Benchmarks/pg_bloat.py: dead tuples and table and index sizes on PostgreSQL under a steady load.

One Relevo instance on a throwaway PostgreSQL 15 (default settings, autovacuum on) delivers channel
messages from USERS users, each sending one message every USERS/RATE seconds (RATE messages/s in
all), to a panel that answers at once, for SECONDS seconds. Every SAMPLE seconds it prints, for the
tables the delivery path rewrites (events, heads, attempts, idempotency, messages): live and dead
tuples, autovacuum runs so far, and the size of the table and of its indexes. Read it for whether
autovacuum keeps dead tuples bounded and the indexes stop growing once the load is steady.

    python3 Benchmarks/pg_bloat.py [path/to/relevo]     (default: the release build in .build-bench)
    Env: RATE (default 300), USERS (default 60), SECONDS (default 600), SAMPLE (default 60)
"""
import os, subprocess, sys, tempfile, threading, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
from harness import Panel, Relevo, send_messages, start_conversations
from pg_server import PostgresServer

binary = sys.argv[1] if len(sys.argv) > 1 else ".build-bench/release/relevo"
rate = float(os.environ.get("RATE", "300"))
users = int(os.environ.get("USERS", "60"))
seconds = int(os.environ.get("SECONDS", "600"))
sample = int(os.environ.get("SAMPLE", "60"))
TABLES = ["events", "heads", "attempts", "idempotency", "messages"]
QUERY = (
    "SELECT relname, n_live_tup, n_dead_tup, autovacuum_count, pg_table_size(relid), pg_indexes_size(relid) "
    "FROM pg_stat_user_tables WHERE relname IN ('" + "','".join(TABLES) + "') ORDER BY relname")

directory = tempfile.mkdtemp(prefix="relevo-bloat-")
with PostgresServer() as pg:
    url = pg.create_database("relevo")
    os.environ["RELEVO_MASTER_KEY"] = "cd" * 32
    panel = Panel()
    relevo = Relevo(binary, directory, url)
    relevo.start()
    try:
        project, key = relevo.banner()
        start_conversations([relevo.base], project, key, panel.url, users)
        stop, errors = threading.Event(), []
        acknowledged = {index: [] for index in range(users)}
        threads = [threading.Thread(target=send_messages, args=(relevo.base, project, key, index, acknowledged, stop, errors, users / rate),
                                    daemon=True) for index in range(users)]
        for thread in threads:
            thread.start()
        began = time.time()
        psql = [os.path.join(os.environ.get("RELEVO_PG_BIN", "/usr/lib/postgresql/15/bin"), "psql"), "-qAtF", "\t", url, "-c", QUERY]
        print(f"{rate:.0f} messages/s from {users} users for {seconds} s; every {sample} s:", flush=True)
        print(f"{'t (s)':>6} {'table':12} {'live':>9} {'dead':>8} {'autovac':>7} {'table MiB':>9} {'index MiB':>9} {'sent':>8}", flush=True)
        while time.time() - began < seconds and not errors:
            time.sleep(sample)
            sent = sum(len(messages) for messages in acknowledged.values())
            for line in subprocess.run(psql, capture_output=True, text=True).stdout.splitlines():
                name, live, dead, runs, table, index = line.split("\t")
                print(f"{time.time() - began:6.0f} {name:12} {int(live):9d} {int(dead):8d} {int(runs):7d} "
                      f"{int(table) / 2**20:9.1f} {int(index) / 2**20:9.1f} {sent:8d}", flush=True)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        if errors:
            print(f"refused: {errors[0]}")
    finally:
        relevo.stop()
