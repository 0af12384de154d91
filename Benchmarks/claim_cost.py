#!/usr/bin/env python3
"""Claim cost with 1,000 vs 1,000,000 pending events (must stay flat: indexes, not scans).

Migrates a fresh database with the real binary, fills `events` and `heads` directly (10 events per
ordering key, so a tenth of them are heads), then times the dispatcher's claim query — the same SQL
as `SQLiteStore.claimDueEvents` — and prints its query plan.

    python3 Benchmarks/claim_cost.py [path/to/relevo]
"""
import os, signal, sqlite3, subprocess, sys, tempfile, time

binary = sys.argv[1] if len(sys.argv) > 1 else ".build-bench/release/relevo"
CLAIM = """
SELECT e.id FROM heads h INDEXED BY heads_by_seq CROSS JOIN events e ON e.seq = h.seq
WHERE e.status = 'pending' AND e.next_attempt_at <= ?
ORDER BY h.seq LIMIT 64
"""

def database(pending):
    directory = tempfile.mkdtemp(prefix="relevo-claim-")
    path = f"{directory}/relevo.sqlite"
    server = subprocess.Popen([binary, "serve", "--port", "0", "--database", f"sqlite://{path}"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    server.stdout.readline()  # the banner means migrations are applied
    time.sleep(0.5)
    server.send_signal(signal.SIGTERM)
    server.wait()
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous = OFF")
    rows = ((f"evt_{i}", "p", "panel", None, f"panel:p:c{i // 10}", f"c{i // 10}", "message", b"{}", "pending", 0, 0, 0, 0)
            for i in range(pending))
    db.executemany("""INSERT INTO events (id, project_id, destination, bot_id, ordering_key, conversation_id, event_type, body,
                      status, attempt_count, retry_base, next_attempt_at, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)""", rows)
    # What the store's writes maintain: one head per ordering key.
    db.execute("INSERT INTO heads (ordering_key, seq) SELECT ordering_key, MIN(seq) FROM events GROUP BY ordering_key")
    db.commit()
    return db

for pending in (1_000, 1_000_000):
    db = database(pending)
    plan = [row[3] for row in db.execute("EXPLAIN QUERY PLAN " + CLAIM, (10**15,))]
    db.execute(CLAIM, (10**15,)).fetchall()  # warm the page cache
    runs = 30
    start = time.perf_counter()
    for _ in range(runs):
        claimed = db.execute(CLAIM, (10**15,)).fetchall()
    per_claim = (time.perf_counter() - start) / runs * 1000
    print(f"{pending:>9} pending: claim of {len(claimed)} heads in {per_claim:.3f} ms  (plan: {' | '.join(plan)})")
