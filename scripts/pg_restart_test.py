#!/usr/bin/env python3
"""PostgreSQL-restart test: two Relevo instances under a message load while PostgreSQL restarts.

Starts a throwaway PostgreSQL (scripts/pg_server.py) and instances A and B on it. Users send
channel messages one at a time, each to A or B at random; after a 503 (or no answer) they send the
same message id again, as a channel would (the id makes it idempotent). Mid-way PostgreSQL is
restarted twice: `pg_ctl restart -m immediate`, then an immediate stop with a few seconds down
before the start. Neither instance is restarted.

First, a restart while a message's transaction commits (a deferred trigger holds the commit open),
in immediate and in fast mode: the message is answered 503, never acknowledged and lost.

Checks: while PostgreSQL is down the answers are 503 in the error envelope with `Retry-After`
(never a 500), no request waits 15 s or more and every request gets an answer within 30 s; both instances reconnect by themselves (they answer /health and accept messages
afterwards); every acknowledged message was routed to the panel in its own conversation and reaches
the panel, in order per conversation (within 90 s: none waits in a later step of the retry
schedule). The
duplicate deliveries (the same webhook-id twice) are counted and reported. Prints `N passed, N failed`.

    python3 scripts/pg_restart_test.py [path/to/relevo] [--conversations 16] [--down 4]
"""
import argparse, os, random, secrets, sys, tempfile, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Checks, Panel, Relevo, in_order, order_report, start_conversations, status_of, wait_for
from pg_server import PostgresServer

parser = argparse.ArgumentParser()
parser.add_argument("binary", nargs="?", default=".build/debug/relevo")
parser.add_argument("--conversations", type=int, default=16)
parser.add_argument("--down", type=float, default=4, help="seconds PostgreSQL stays down in the second restart")
parser.add_argument("--seed", type=int, default=int(time.time()))
args = parser.parse_args()
random.seed(args.seed)

directory = tempfile.mkdtemp(prefix="relevo-pg-restart-")
pg = PostgresServer()
panel = Panel()
instances = []
check = Checks()



try:
    pg.start()
    database_url = pg.create_database("relevo")
    master_key = secrets.token_hex(32)
    extra = ("--delivery-timeout", "2", "--delivery-lease", "3")
    a = Relevo(args.binary, directory, database_url, name="A", extra=extra, env={"RELEVO_MASTER_KEY": master_key})
    b = Relevo(args.binary, directory, database_url, name="B", extra=extra, env={"RELEVO_MASTER_KEY": master_key})
    instances = [a, b]
    a.start()
    project, key = a.banner()
    b.start()
    conversations = start_conversations([a.base, b.base], project, key, panel.url, args.conversations)
    messages_path = f"/v1/projects/{project}/channel/messages"

    def channel_message(user, message_id, text):
        return {"botId": "bot", "userId": user, "value": {"id": message_id, "type": "text", "content": {"body": text}}}

    def stored(message_id):
        return int(pg.psql(f"SELECT count(*) FROM messages WHERE id = '{message_id}'", dbname="relevo"))

    # A restart while a message's transaction commits. PostgreSQL sends a statement's result before it
    # commits the statement's implicit transaction, and a backend told to quit flushes what it had
    # sent (immediate mode), or follows it with an error (fast mode): an instance that answered on the
    # result alone would acknowledge a message the restart then loses. A deferred trigger holds the
    # commit open (pg_sleep) while PostgreSQL restarts.
    pg.psql("""CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(3); RETURN NULL; END $$;
               CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON messages DEFERRABLE INITIALLY DEFERRED
               FOR EACH ROW EXECUTE FUNCTION slow_commit()""", dbname="relevo")
    for mode in ("immediate", "fast"):
        wait_for(lambda: status_of(a.base, "GET", "/health")[0] == 200, 30)
        cut_short = channel_message("u0", f"probe-commit-{mode}", "cut short")
        answer = []
        sender = threading.Thread(target=lambda: answer.append(status_of(a.base, "POST", messages_path, cut_short, key, timeout=30)))
        sender.start()
        committing = wait_for(lambda: pg.psql("SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'").strip() == "1", 10)
        pg.restart(mode=mode)
        sender.join(40)
        status, body, headers = answer[0] if answer else (None, "no answer", None)
        times = stored(f"probe-commit-{mode}")
        check(f"a message whose commit a restart ({mode}) cut short is refused with 503, not acknowledged and lost",
              committing and status == 503 and times == 0, f"held at its commit: {committing}; answered {status} {body}; stored {times} times")
    pg.psql("DROP TRIGGER slow_commit ON messages; DROP FUNCTION slow_commit()", dbname="relevo")
    for mode in ("immediate", "fast"):
        cut_short = channel_message("u0", f"probe-commit-{mode}", "cut short")
        again = wait_for(lambda: status_of(a.base, "POST", messages_path, cut_short, key)[0] == 200, 30)
        times = stored(f"probe-commit-{mode}")
        check(f"sent again after the {mode} restart, it is acknowledged and stored once", again and times == 1, f"stored {times} times")

    acknowledged = {index: [] for index in conversations}
    answers = {"503": 0, "no answer": [], "bad 503": [], "other": [], "not to the panel": [], "longest": 0.0}
    lock, stop = threading.Lock(), threading.Event()

    def user(index):
        number = 0
        while not stop.is_set():
            message = f"c{index}-m{number}"
            instance = random.choice(instances)
            sent = time.monotonic()
            status, body, headers = status_of(instance.base, "POST", messages_path, channel_message(f"u{index}", message, message),
                                              key, timeout=30)
            took = time.monotonic() - sent
            with lock:
                answers["longest"] = max(answers["longest"], took)
                if status == 200:
                    acknowledged[index].append(message)
                    if not (isinstance(body, dict) and body.get("data") == {"routedTo": "panel", "conversationId": conversations[index]}):
                        answers["not to the panel"].append((instance.name, message, repr(body)[:200]))
                    number += 1
                    time.sleep(0.01)
                    continue
                if status == 503:
                    answers["503"] += 1
                    if not (isinstance(body, dict) and body.get("error", {}).get("key") == "SERVICE_UNAVAILABLE"
                            and headers.get("Retry-After")):
                        answers["bad 503"].append(repr(body)[:200])
                elif status == 0:
                    answers["no answer"].append(f"{instance.name}: {body!r}")
                else:
                    answers["other"].append((instance.name, status, repr(body)[:200]))
            time.sleep(0.1)

    def total():
        with lock:
            return sum(map(len, acknowledged.values()))

    users = [threading.Thread(target=user, args=(index,), daemon=True) for index in conversations]
    for thread in users:
        thread.start()
    wait_for(lambda: total() > 300, 60)

    for label, down in (("pg_ctl restart -m immediate", 0), (f"immediate stop, {args.down:g} s down, start", args.down)):
        at = total()
        started = time.time()
        pg.restart(down_seconds=down)
        restarted = time.time()
        resumed = wait_for(lambda: total() > at + 200, 60)
        print(f"{label}: {restarted - started:.1f} s until PostgreSQL was back; load resumed after "
              f"{time.time() - restarted:.1f} s more; {answers['503']} answers 503 so far", flush=True)
        check(f"{label}: the load resumed by itself", resumed, f"{at} → {total()}")
        both = wait_for(lambda: all(status_of(instance.base, "GET", "/health")[0] == 200 for instance in instances), 15)
        check(f"{label}: both instances answer /health with 200", both,
              ", ".join(f"{i.name}: {status_of(i.base, 'GET', '/health')[:2]}" for i in instances))

    # Each instance on its own accepts messages again (the load above went to both at random).
    for instance in instances:
        status, body, _ = status_of(instance.base, "POST", messages_path, channel_message("u0", f"probe-{instance.name}", "probe"), key)
        check(f"instance {instance.name} reconnected by itself and accepts a message", status == 200, f"{status} {body}")
    stop.set()
    for thread in users:
        thread.join(timeout=60)

    check("while PostgreSQL was down, refusals were 503 with the envelope and Retry-After", answers["503"] > 0 and not answers["bad 503"],
          f"{answers['503']} 503s; malformed {answers['bad 503'][:2]}")
    check("no answer other than 200 or 503 (no 500)", not answers["other"], repr(answers["other"][:3]))
    check("every acknowledged message was routed to the panel in its own conversation", not answers["not to the panel"],
          repr(answers["not to the panel"][:3]))
    # A request waits at most 5 s for a connection; work on a connection that closes under it is
    # answered at once rather than after the 20 s the server gives a connection that does not answer.
    check("no request waited 15 s or more for its answer", answers["longest"] < 15, f"the longest took {answers['longest']:.1f} s")
    check("every request got an answer within 30 s (no hang)", not answers["no answer"],
          "; ".join(answers["no answer"][:3]) + "; PostgreSQL's sessions: " + pg.psql(
              "SELECT pid, state, wait_event, left(query, 60) FROM pg_stat_activity WHERE datname = 'relevo'",
              dbname="relevo").replace("\n", " | "))
    check("both instances stayed up", all(instance.alive() for instance in instances))

    expected = total()
    # Until every conversation has its acknowledged messages (counting arrivals would let other ones stand in).
    wait_for(lambda: not in_order(panel, conversations, acknowledged, ignore=lambda message: message.startswith("probe")), 90)
    out_of_order = in_order(panel, conversations, acknowledged, ignore=lambda message: message.startswith("probe"))
    _, duplicates = panel.first_arrivals()
    check("every acknowledged message reached the panel, in order per conversation", not out_of_order,
          order_report(panel, conversations, acknowledged, out_of_order, ignore=lambda message: message.startswith("probe")))
    for index in out_of_order:
        # The store's side of a conversation that failed: its messages and its events with their state.
        print(pg.psql(f"SELECT seq, id FROM messages WHERE conversation_id = '{conversations[index]}' ORDER BY seq",
                      dbname="relevo"), flush=True)
        print(pg.psql("SELECT seq, status, attempt_count, next_attempt_at, locked_until, lease_owner, "
                      "(regexp_match(convert_from(body, 'UTF8'), 'c[0-9]+-m[0-9]+'))[1], "
                      "(SELECT seq FROM heads WHERE heads.ordering_key = events.ordering_key) AS head "
                      f"FROM events WHERE conversation_id = '{conversations[index]}' ORDER BY seq", dbname="relevo"), flush=True)
        print(pg.psql(f"SELECT key, response FROM idempotency WHERE key LIKE 'c{index}-%' ORDER BY created_at", dbname="relevo"), flush=True)
    print(f"seed {args.seed}: {expected} messages acknowledged, {answers['503']} answers 503, "
          f"{len(answers['no answer'])} requests without an answer {answers['no answer'][:3]}, the longest answer {answers['longest']:.1f} s, "
          f"{duplicates} duplicate deliveries", flush=True)
finally:
    for instance in instances:
        instance.stop()
    pg.stop()

check.finish(directory)
