#!/usr/bin/env python3
"""Crash test: a load of conversations while Relevo is killed with SIGKILL at random moments.

Every message Relevo acknowledged (200) must reach the panel at least once, and the first arrivals
of each conversation's events must be in the order they were sent. Duplicates (the same webhook-id
twice: an attempt cut by a kill) are counted and allowed. Prints `N passed, N failed`.

    python3 scripts/crash_test.py [path/to/relevo] [--kills 4] [--conversations 16] [--messages 60]
"""
import argparse, json, os, random, shutil, signal, socket, subprocess, sys, tempfile, threading, time, urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

parser = argparse.ArgumentParser()
parser.add_argument("binary", nargs="?", default=".build/debug/relevo")
parser.add_argument("--kills", type=int, default=4)
parser.add_argument("--conversations", type=int, default=16)
parser.add_argument("--messages", type=int, default=60, help="per conversation")
parser.add_argument("--pace", type=float, default=0.02, help="seconds between two messages of one user")
parser.add_argument("--seed", type=int, default=int(time.time()))
args = parser.parse_args()
random.seed(args.seed)

arrivals, lock = [], threading.Lock()  # (webhook-id, conversation id, kind, message id)


class Panel(BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        kind = body.get("event") or body.get("event_type")
        value_id = body.get("value", {}).get("id")
        with lock:
            arrivals.append((self.headers["webhook-id"], body["conversation"]["id"], kind, value_id))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *_):
        pass


panel = ThreadingHTTPServer(("127.0.0.1", 0), Panel)
threading.Thread(target=panel.serve_forever, daemon=True).start()

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

directory = tempfile.mkdtemp(prefix="relevo-crash-")
port = free_port()
base = f"http://127.0.0.1:{port}"
command = [args.binary, "serve", "--port", str(port), "--database", f"sqlite://{directory}/relevo.sqlite",
           "--allow-insecure-webhooks", "--rate-limit", "0", "--retry-schedule", ",".join(["200ms"] * 30)]
server = None

def start():
    global server
    server = subprocess.Popen(command, stdout=open(f"{directory}/stdout.log", "a"), stderr=open(f"{directory}/stderr.log", "a"))
    began = time.time()
    while time.time() - began < 30:
        try:
            urllib.request.urlopen(base + "/health", timeout=1)
            return
        except Exception:
            if server.poll() is not None:
                break
            time.sleep(0.05)
    state = f"exited with {server.returncode}" if server.poll() is not None else "running, /health unanswered"
    with open(f"{directory}/stderr.log") as log:
        lines = log.read().splitlines()
    # A crash report: from its first line, the crashing thread's frames; otherwise the last lines.
    crashed = [i for i, line in enumerate(lines) if "Program crashed" in line]
    last = lines[crashed[-1]:crashed[-1] + 40] if crashed else lines[-5:]
    raise SystemExit(f"relevo did not start within {time.time() - began:.1f} s ({state}); its last lines:\n" + "\n".join(last))

def call(method, path, body=None, key=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method,
                                     headers={"content-type": "application/json", "x-api-key": key or ""})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())

def call_until_acknowledged(method, path, body, key):
    """Retries through restarts: every write here is idempotent or safe to repeat."""
    while True:
        try:
            return call(method, path, body, key)
        except urllib.error.HTTPError as error:
            if error.code < 500:
                raise
        except Exception:
            pass
        time.sleep(0.05)

try:
    start()
    banner = open(f"{directory}/stdout.log").read().split()
    project, key = banner[banner.index("projectId:") + 1], banner[banner.index("x-api-key:") + 1]
    call("POST", f"/v1/external-support/{project}", {"webhookUrl": f"http://127.0.0.1:{panel.server_address[1]}/hook"}, key)
    call("POST", f"/v1/projects/{project}/bots", {"id": "bot", "name": "Bot"}, key)
    conversations = {}
    for index in range(args.conversations):
        call("PUT", f"/v1/projects/{project}/users/u{index}", {"names": f"User {index}"}, key)
        conversations[index] = call("POST", f"/v1/external-support/{project}/conversations/start",
                                    {"botId": "bot", "userId": f"u{index}"}, key)["data"]["_id"]

    acknowledged = {index: [] for index in conversations}

    def user(index):
        for number in range(args.messages):
            message = f"c{index}-m{number}"
            call_until_acknowledged("POST", f"/v1/projects/{project}/channel/messages",
                                    {"botId": "bot", "userId": f"u{index}", "value": {"id": message, "type": "text", "content": {"body": message}}}, key)
            acknowledged[index].append(message)
            time.sleep(args.pace)

    users = [threading.Thread(target=user, args=(index,), daemon=True) for index in conversations]  # daemons: after a failure they would retry forever
    for thread in users:
        thread.start()
    for kill in range(args.kills):
        time.sleep(random.uniform(0.2, 0.8))
        server.send_signal(signal.SIGKILL)
        server.wait()
        print(f"kill {kill + 1}: SIGKILL at {len(arrivals)} arrivals", flush=True)
        time.sleep(random.uniform(0.05, 0.3))
        start()
    for thread in users:
        thread.join()

    expected = sum(len(messages) for messages in acknowledged.values()) + len(conversations)
    deadline = time.time() + 90
    while time.time() < deadline:
        with lock:
            if len({arrival[0] for arrival in arrivals}) >= expected:
                break
        time.sleep(0.1)
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=30)

    passed = failed = 0
    with lock:
        ids = [arrival[0] for arrival in arrivals]
        duplicates = len(ids) - len(set(ids))
        seen, first = set(), []
        for arrival in arrivals:
            if arrival[0] not in seen:
                seen.add(arrival[0])
                first.append(arrival)
    for index, conversation in conversations.items():
        delivered = [value for (_, conv, kind, value) in first if conv == conversation and kind == "message"]
        started = any(conv == conversation and kind == "conversation.start" for (_, conv, kind, _) in first)
        ok = started and delivered == acknowledged[index]
        if not ok:
            missing = [m for m in acknowledged[index] if m not in delivered]
            print(f"conversation {index}: FAILED (start={started}, missing={missing[:5]}, order ok={sorted(delivered, key=lambda m: int(m.split('-m')[1])) == delivered})")
        passed, failed = passed + ok, failed + (not ok)
    print(f"seed {args.seed}: {args.kills} kills, {expected} events acknowledged, {len(set(ids))} delivered, {duplicates} duplicates")
    print(f"{passed} passed, {failed} failed")
    sys.exit(0 if failed == 0 else 1)
finally:  # success or failure: no server left running, no directory left behind (nothing here shows its path)
    if server is not None and server.poll() is None:
        server.kill()
        server.wait()
    shutil.rmtree(directory, ignore_errors=True)
