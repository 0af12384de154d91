#!/usr/bin/env python3
"""Multi-instance test: two Relevo servers share one PostgreSQL database; one is killed with SIGKILL.

Starts a throwaway PostgreSQL (scripts/pg_server.py), then instance A (which seeds the default
project and prints its key) and instance B on the same database, with the same RELEVO_MASTER_KEY
and `--delivery-lease 3`. Conversations are started on A and B alternately; each user sends its
messages one at a time (the next only after the previous got its 200) to A or B at random. Midway B
is killed with SIGKILL and not restarted: the rest goes through A, which must take over B's leased
deliveries once their lease runs out. A message that got no answer because of the kill is not
counted as acknowledged (it may or may not arrive).

Checks: every acknowledged event reached the panel at least once; first arrivals of each
conversation are in send order; duplicates (same webhook-id twice) are at most what B can have
had in flight to the one panel (32: only attempts the kill cut short may repeat); the panel never handles two requests of one conversation at the same time, except the same
webhook-id after the kill (a lease takeover). Prints `N passed, N failed`.

    python3 scripts/multi_instance_test.py [path/to/relevo] [--conversations 24] [--messages 30]
"""
import argparse, json, os, random, re, secrets, shutil, signal, socket, subprocess, sys, tempfile, threading, time
import urllib.error, urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pg_server import PostgresServer

parser = argparse.ArgumentParser()
parser.add_argument("binary", nargs="?", default=".build/debug/relevo")
parser.add_argument("--conversations", type=int, default=24)
parser.add_argument("--messages", type=int, default=30, help="per conversation")
parser.add_argument("--pace", type=float, default=0.02, help="seconds between two messages of one user")
parser.add_argument("--lease", type=int, default=3, help="--delivery-lease of both instances, seconds")
parser.add_argument("--kill-at", type=float, default=0.5, help="kill B once this fraction of all messages is acknowledged")
parser.add_argument("--panel-delay", type=float, default=0.005, help="seconds the panel takes per request")
parser.add_argument("--max-duplicates", type=int, default=32, help="B's in-flight cap per destination (every event here goes to one panel)")
parser.add_argument("--wait", type=float, default=90, help="seconds to wait for the acknowledged events at the end")
parser.add_argument("--keep", action="store_true", help="keep the instances' logs even when everything passed")
parser.add_argument("--seed", type=int, default=int(time.time()))
args = parser.parse_args()
random.seed(args.seed)
if not os.access(args.binary, os.X_OK):
    raise SystemExit(f"no executable at {args.binary} (build it first, or pass its path)")
signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # run the finally below on `kill` as well
signal.signal(signal.SIGINT, signal.default_int_handler)
started_at = time.time()

def log(line):
    print(f"[{time.time() - started_at:6.1f}s] {line}", flush=True)

# ---------------------------------------------------------------------------------------------
# The panel: records arrivals, and whether two requests of one conversation overlap in time.

lock = threading.Lock()
arrivals = []   # (webhook-id, conversation id, kind, message id, time)
handling = {}   # conversation id -> webhook-ids being handled right now
overlaps = []   # (conversation id, webhook-ids being handled, new webhook-id, kind, allowed)
b_killed = threading.Event()  # set just before B's SIGKILL


class Panel(BaseHTTPRequestHandler):
    def do_POST(self):
        try:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            webhook_id = self.headers["webhook-id"]
            kind = body.get("event") or body.get("event_type")
            conversation = body["conversation"]["id"]
            value_id = (body.get("value") or {}).get("id")
        except Exception:  # a request cut by the kill: nothing usable arrived
            return
        with lock:
            busy = handling.setdefault(conversation, [])
            if busy:
                # The only overlap allowed: A taking over (lease expired) an attempt B started before dying.
                allowed = b_killed.is_set() and set(busy) == {webhook_id}
                overlaps.append((conversation, list(busy), webhook_id, kind, allowed))
            busy.append(webhook_id)
            arrivals.append((webhook_id, conversation, kind, value_id, time.time()))
        time.sleep(args.panel_delay)
        with lock:  # before answering: once Relevo has the answer it may send the next event
            busy.remove(webhook_id)
        try:
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
        except OSError:  # the sender was killed meanwhile
            pass

    def log_message(self, *_):
        pass


class PanelServer(ThreadingHTTPServer):
    request_queue_size = 128  # two instances, each with up to 32 attempts in flight to this one panel
    daemon_threads = True

# ---------------------------------------------------------------------------------------------
# Relevo instances.

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base, method, path, body=None, key=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method,
                                     headers={"content-type": "application/json", "x-api-key": key or ""})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


class Instance:
    def __init__(self, name, directory, database_url, master_key):
        self.name, self.port = name, free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.stdout, self.stderr = f"{directory}/{name}.stdout.log", f"{directory}/{name}.stderr.log"
        self.command = [args.binary, "serve", "--port", str(self.port), "--database", database_url,
                        "--allow-insecure-webhooks", "--rate-limit", "0", "--retry-schedule", ",".join(["200ms"] * 30),
                        "--delivery-timeout", "2", "--delivery-lease", str(args.lease)]
        self.env = dict(os.environ, RELEVO_MASTER_KEY=master_key)
        self.process = None

    def start(self):
        with open(self.stdout, "a") as out, open(self.stderr, "a") as err:
            self.process = subprocess.Popen(self.command, stdout=out, stderr=err, env=self.env)
        for _ in range(600):
            if self.process.poll() is not None:
                raise SystemExit(f"relevo {self.name} exited with {self.process.returncode}; see {self.stderr}")
            try:
                urllib.request.urlopen(self.base + "/health", timeout=1)
                log(f"instance {self.name} up on {self.base} (pid {self.process.pid})")
                return
            except Exception:
                time.sleep(0.05)
        raise SystemExit(f"relevo {self.name} did not start; see {self.stderr}")

    def delivered_metrics(self):
        """`relevo_events_delivered_total` lines of GET /metrics (information only)."""
        try:
            with urllib.request.urlopen(self.base + "/metrics", timeout=2) as response:
                text = response.read().decode()
            return ", ".join(line.split("_total", 1)[1] for line in text.splitlines()
                             if line.startswith("relevo_events_delivered_total")) or "no delivered_total line"
        except Exception as error:
            return f"unavailable ({error!r})"

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def read_banner(instance):
    """projectId and x-api-key from the first-start banner, as crash_test.py reads them."""
    for _ in range(100):
        banner = open(instance.stdout).read().split()
        if "projectId:" in banner and "x-api-key:" in banner and banner.index("x-api-key:") + 1 < len(banner):
            return banner[banner.index("projectId:") + 1], banner[banner.index("x-api-key:") + 1]
        time.sleep(0.05)
    raise SystemExit(f"instance {instance.name} printed no projectId / x-api-key; see {instance.stdout}")

# ---------------------------------------------------------------------------------------------

directory = tempfile.mkdtemp(prefix="relevo-multi-")
pg = PostgresServer()
a = b = None
panel = PanelServer(("127.0.0.1", 0), Panel)
threading.Thread(target=panel.serve_forever, daemon=True).start()
passed = failed = 0
exit_code = 1
try:
    pg.start()
    database_url = pg.create_database("relevo")
    log(f"seed {args.seed}; PostgreSQL at {database_url}; logs in {directory}")
    master_key = secrets.token_hex(32)
    a = Instance("A", directory, database_url, master_key)
    b = Instance("B", directory, database_url, master_key)
    a.start()
    project, key = read_banner(a)  # only the first instance on an empty database seeds and prints
    b.start()

    call(a.base, "POST", f"/v1/external-support/{project}", {"webhookUrl": f"http://127.0.0.1:{panel.server_address[1]}/hook"}, key)
    call(a.base, "POST", f"/v1/projects/{project}/bots", {"id": "bot", "name": "Bot"}, key)
    conversations = {}
    for index in range(args.conversations):  # alternately on A and B: B must see what A wrote
        instance = (a, b)[index % 2]
        call(instance.base, "PUT", f"/v1/projects/{project}/users/u{index}", {"names": f"User {index}"}, key)
        conversations[index] = call(instance.base, "POST", f"/v1/external-support/{project}/conversations/start",
                                    {"botId": "bot", "userId": f"u{index}"}, key)["data"]["_id"]
    log(f"{len(conversations)} conversations started (even ones on A, odd ones on B)")

    acknowledged = {index: [] for index in conversations}  # message ids answered 200, in send order
    lost = {index: [] for index in conversations}          # sent to B, no answer because of the kill
    answered_by = {"A": 0, "B": 0}
    errors = []
    progress_lock = threading.Lock()
    total = args.conversations * args.messages

    def send(index, message, rng):
        """Returns the instance that answered 200, or None when B's kill took the answer."""
        body = {"botId": "bot", "userId": f"u{index}", "value": {"id": message, "type": "text", "content": {"body": message}}}
        target = a if b_killed.is_set() or rng.random() < 0.5 else b
        deadline = time.time() + 60
        while True:
            try:
                call(target.base, "POST", f"/v1/projects/{project}/channel/messages", body, key)
                return target
            except urllib.error.HTTPError as error:
                if error.code < 500:
                    raise RuntimeError(f"{message} on {target.name}: HTTP {error.code} {error.read()[:300]!r}")
                failure = f"HTTP {error.code}"
            except Exception as error:
                failure = repr(error)
            if target is b and b_killed.is_set():
                return None
            if time.time() > deadline:
                raise RuntimeError(f"{message}: no 200 from {target.name} within 60 s (last: {failure})")
            time.sleep(0.05)  # a 5xx or a refused connection before the kill: safe to repeat (idempotent value.id)

    def user(index):
        rng = random.Random(f"{args.seed}-{index}")
        try:
            for number in range(args.messages):
                message = f"c{index}-m{number}"
                answered = send(index, message, rng)
                with progress_lock:
                    if answered is None:
                        lost[index].append(message)
                    else:
                        acknowledged[index].append(message)
                        answered_by[answered.name] += 1
                time.sleep(args.pace)
        except Exception as error:
            with progress_lock:
                errors.append(f"user u{index}: {error}")

    users = [threading.Thread(target=user, args=(index,), daemon=True) for index in conversations]
    for thread in users:
        thread.start()
    log(f"sending {args.messages} messages in each of {len(users)} conversations to A and B at random")

    while any(thread.is_alive() for thread in users):
        with progress_lock:
            done = sum(len(m) for m in acknowledged.values())
        if done >= args.kill_at * total:
            break
        time.sleep(0.01)
    log(f"before the kill: A delivered {a.delivered_metrics()}; B delivered {b.delivered_metrics()}")
    b_killed.set()
    b.process.send_signal(signal.SIGKILL)
    b.process.wait()
    with lock:
        arrivals_at_kill, distinct_at_kill = len(arrivals), len({arrival[0] for arrival in arrivals})
    with progress_lock:
        done, by_b = sum(len(m) for m in acknowledged.values()), answered_by["B"]
    log(f"SIGKILL B at {done}/{total} acknowledged messages ({by_b} answered by B); "
        f"{arrivals_at_kill} panel arrivals so far ({distinct_at_kill} distinct)")

    for thread in users:
        thread.join()
    lost_count = sum(len(m) for m in lost.values())
    log(f"all users done: {sum(len(m) for m in acknowledged.values())} acknowledged "
        f"(A {answered_by['A']}, B {answered_by['B']}), {lost_count} lost to the kill: {sum(lost.values(), [])[:8]}")

    expected = {(conversations[index], "conversation.start", None) for index in conversations}
    expected |= {(conversations[index], "message", message) for index in conversations for message in acknowledged[index]}
    def missing_events():
        with lock:
            arrived = {(conv, kind, value if kind == "message" else None) for (_, conv, kind, value, _) in arrivals}
        return expected - arrived
    deadline, next_report = time.time() + args.wait, time.time() + 10
    while missing_events() and time.time() < deadline:
        if time.time() >= next_report:
            log(f"waiting: {len(expected) - len(missing_events())} of {len(expected)} acknowledged events arrived")
            next_report += 10
        time.sleep(0.1)
    missing = missing_events()
    log(f"{len(expected) - len(missing)} of {len(expected)} acknowledged events arrived; "
        f"waiting {args.lease + 1} s more for late lease takeovers")
    time.sleep(args.lease + 1)  # a redelivery of an attempt B made but never recorded comes after the lease
    a.stop()
    log(f"A stopped (exit {a.process.returncode})")

    # -----------------------------------------------------------------------------------------
    def check(ok, title, detail=""):
        global passed, failed
        print(f"{'PASS' if ok else 'FAIL'}: {title}{' — ' + detail if detail else ''}", flush=True)
        passed, failed = passed + bool(ok), failed + (not ok)

    with lock:
        ids = [arrival[0] for arrival in arrivals]
        duplicates = len(ids) - len(set(ids))
        seen, first = set(), []
        for arrival in arrivals:
            if arrival[0] not in seen:
                seen.add(arrival[0])
                first.append(arrival)
    kinds = sorted({arrival[2] for arrival in first} - {"message", "conversation.start"}, key=str)

    check(not errors, "every user got a 200 (or lost an answer to the kill) for each message",
          "; ".join(errors[:5]))
    check(answered_by["A"] > 0 and by_b > 0, "both instances answered messages before the kill",
          f"A {answered_by['A']}, B {by_b} before it was killed")
    b_stdout = open(b.stdout).read()
    check("x-api-key:" not in b_stdout, "B (second to start) seeded nothing and printed no key")
    check(not missing, "every acknowledged event arrived at least once",
          f"{len(expected) - len(missing)}/{len(expected)}" + (f", missing e.g. {sorted(missing, key=str)[:5]}" if missing else ""))

    disorders = []
    for index, conversation in conversations.items():
        events = [(kind, value) for (_, conv, kind, value, _) in first
                  if conv == conversation and kind in ("message", "conversation.start")]
        sent = acknowledged[index] + lost[index]
        numbers = [int(value.split("-m")[1]) if kind == "message" and value in sent else None for kind, value in events]
        ok = (bool(events) and events[0][0] == "conversation.start"
              and all(kind == "message" for kind, _ in events[1:])
              and None not in numbers[1:] and numbers[1:] == sorted(set(numbers[1:])))
        if not ok:
            disorders.append(f"conversation {index}: {[value or kind for kind, value in events][:12]}")
    check(not disorders, "first arrivals of each conversation are in send order (start first)", "; ".join(disorders[:3]))

    check(duplicates <= args.max_duplicates, f"duplicates (same webhook-id again) at most {args.max_duplicates}",
          f"{duplicates} duplicates")
    forbidden = [o for o in overlaps if not o[4]]
    allowed = len(overlaps) - len(forbidden)
    check(not forbidden, "the panel never handled two requests of one conversation at once",
          f"{len(forbidden)} overlaps, e.g. {forbidden[:3]}" if forbidden else f"{allowed} allowed lease-takeover overlaps")

    print(f"seed {args.seed}: {len(expected)} events acknowledged, {len(set(ids))} delivered, {duplicates} duplicates, "
          f"{lost_count} messages lost to the kill, {arrivals_at_kill} arrivals before the kill"
          + (f", other event kinds: {kinds}" if kinds else ""))
    exit_code = 0 if failed == 0 else 1
finally:
    for instance in (b, a):
        if instance:
            if instance.process and instance.process.poll() is None:
                instance.process.kill()
                instance.process.wait()
    panel.shutdown()
    pg.stop()
    if exit_code == 0 and not args.keep:
        shutil.rmtree(directory, ignore_errors=True)
    else:
        print(f"instance logs kept in {directory}", flush=True)
print(f"{passed} passed, {failed} failed")
sys.exit(exit_code)
