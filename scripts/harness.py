"""What the fault tests share: a panel that records what arrives, a Relevo server process, and API calls.

    from harness import Panel, Relevo, call
    panel = Panel()                                   # a webhook receiver on 127.0.0.1
    relevo = Relevo(binary, directory, database_url)  # `relevo serve` on a free port
    relevo.start(); project, key = relevo.banner()
    call(relevo.base, "GET", f"/v1/external-support/{project}", key=key)

Every process and server here listens on 127.0.0.1 only.
"""
import json, os, shutil, signal, subprocess, sys, threading, time, urllib.error, urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from pg_server import free_port


class Panel:
    """A panel that answers 200 (after `delay` seconds) and records each arrival as
    (webhook-id, conversation id, event kind, message id)."""

    def __init__(self, delay=0.0, port=0):
        self.delay, self.arrivals, self.lock = delay, [], threading.Lock()
        self.bodies = {}  # webhook-id → (raw body, X-Jelou-Signature) of its first arrival
        panel = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                try:
                    raw = self.rfile.read(int(self.headers["Content-Length"]))
                    body = json.loads(raw)
                    record = (self.headers["webhook-id"], body["conversation"]["id"],
                              body.get("event") or body.get("event_type"), (body.get("value") or {}).get("id"))
                except Exception:  # a request cut short by a dying sender
                    return
                if panel.delay:
                    time.sleep(panel.delay)
                with panel.lock:
                    panel.arrivals.append(record)
                    panel.bodies.setdefault(record[0], (raw, self.headers["X-Jelou-Signature"]))
                try:
                    self.send_response(200)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass

            def log_message(self, *_):
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 256
            daemon_threads = True

        self.server = Server(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def first_arrivals(self):
        """Each webhook-id's first arrival, in arrival order, and the count of repeats."""
        with self.lock:
            seen, first = set(), []
            for arrival in self.arrivals:
                if arrival[0] not in seen:
                    seen.add(arrival[0])
                    first.append(arrival)
            return first, len(self.arrivals) - len(first)

    def messages_of(self, conversation):
        first, _ = self.first_arrivals()
        return [value for (_, conv, kind, value) in first if conv == conversation and kind == "message"]


def _request(base, method, path, body, key):
    data = None if body is None else json.dumps(body).encode()
    return urllib.request.Request(base + path, data=data, method=method,
                                  headers={"content-type": "application/json", "x-api-key": key or ""})


def call(base, method, path, body=None, key=None, timeout=10):
    """The JSON answer of a 2xx; an HTTPError (with .code and the body readable) otherwise."""
    with urllib.request.urlopen(_request(base, method, path, body, key), timeout=timeout) as response:
        return json.loads(response.read())


def status_of(base, method, path, body=None, key=None, timeout=10):
    """(status, parsed body, headers) whatever the status; (0, the exception, None) when nothing answered."""
    try:
        with urllib.request.urlopen(_request(base, method, path, body, key), timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null"), response.headers
    except urllib.error.HTTPError as error:
        text = error.read()
        try:
            return error.code, json.loads(text), error.headers
        except ValueError:
            return error.code, text, error.headers
    except Exception as error:
        return 0, error, None


class Relevo:
    """One `relevo serve` process with its logs in `directory`."""

    def __init__(self, binary, directory, database_url, name="relevo", extra=(), env=None):
        self.name, self.port = name, free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.stdout, self.stderr = f"{directory}/{name}.stdout.log", f"{directory}/{name}.stderr.log"
        self.command = [binary, "serve", "--port", str(self.port), "--database", database_url,
                        "--allow-insecure-webhooks", "--rate-limit", "0",
                        "--retry-schedule", ",".join(["200ms"] * 30), *extra]
        self.env = dict(os.environ, **(env or {}))
        self.process = None

    def start(self):
        with open(self.stdout, "a") as out, open(self.stderr, "a") as err:
            self.process = subprocess.Popen(self.command, stdout=out, stderr=err, env=self.env)
        for _ in range(600):
            if self.process.poll() is not None:
                raise SystemExit(f"{self.name} exited with {self.process.returncode}; see {self.stderr}")
            try:
                urllib.request.urlopen(self.base + "/health", timeout=1)
                return
            except Exception:
                time.sleep(0.05)
        raise SystemExit(f"{self.name} did not start; see {self.stderr}")

    def banner(self):
        """projectId and x-api-key from the first start's banner."""
        for _ in range(100):
            words = open(self.stdout).read().split()
            if "x-api-key:" in words and words.index("x-api-key:") + 1 < len(words):
                return words[words.index("projectId:") + 1], words[words.index("x-api-key:") + 1]
            time.sleep(0.05)
        raise SystemExit(f"{self.name} printed no projectId / x-api-key; see {self.stdout}")

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def stop(self):
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def cpu_seconds(pids):
    """User + system CPU of `pids` so far (processes that have gone count nothing)."""
    total = 0
    for pid in pids:
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])  # utime stime cutime cstime
        except (FileNotFoundError, ProcessLookupError, IndexError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


def postgres_pids(directory):
    """The postmaster of the cluster in `directory` and every backend it started."""
    postmaster = int(open(os.path.join(directory, "data", "postmaster.pid")).readline())
    children = subprocess.run(["pgrep", "-P", str(postmaster)], capture_output=True, text=True).stdout.split()
    return [postmaster] + [int(pid) for pid in children]


def wait_for(condition, seconds):
    """True as soon as `condition()` is, False if it is not within `seconds`."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def start_conversations(bases, project, key, panel_url, count):
    """The project's integration (to `panel_url`), bot `bot`, and users u0… each with an active
    conversation, started on the instances of `bases` in turn; returns {index: conversation id}."""
    call(bases[0], "POST", f"/v1/external-support/{project}", {"webhookUrl": panel_url}, key)
    call(bases[0], "POST", f"/v1/projects/{project}/bots", {"id": "bot", "name": "Bot"}, key)
    conversations = {}
    for index in range(count):
        base = bases[index % len(bases)]
        call(base, "PUT", f"/v1/projects/{project}/users/u{index}", {"names": f"User {index}"}, key)
        conversations[index] = call(base, "POST", f"/v1/external-support/{project}/conversations/start",
                                    {"botId": "bot", "userId": f"u{index}"}, key)["data"]["_id"]
    return conversations


def send_messages(base, project, key, index, acknowledged, stop, errors, pace=0.0):
    """User u`index` sends messages c`index`-m0, -m1, … until `stop` is set, appending each one
    acknowledged to `acknowledged[index]`; the first refusal goes to `errors` and ends the loop."""
    number = 0
    while not stop.is_set():
        message = f"c{index}-m{number}"
        status, body, _ = status_of(base, "POST", f"/v1/projects/{project}/channel/messages",
                                    {"botId": "bot", "userId": f"u{index}",
                                     "value": {"id": message, "type": "text", "content": {"body": message}}}, key)
        if status != 200:
            errors.append((status, body))
            return
        acknowledged[index].append(message)
        number += 1
        time.sleep(pace)


def in_order(panel, conversations, acknowledged, ignore=lambda message: False):
    """The conversations whose first arrivals at `panel` do not begin with their acknowledged messages."""
    return [index for index, conversation in conversations.items()
            if [m for m in panel.messages_of(conversation) if not ignore(m)][:len(acknowledged[index])] != acknowledged[index]]


def order_report(panel, conversations, acknowledged, indexes, ignore=lambda message: False):
    """For each conversation in `indexes`, where its arrivals part from its acknowledged messages (for a failure's detail)."""
    lines = []
    for index in indexes:
        arrived = [m for m in panel.messages_of(conversations[index]) if not ignore(m)]
        expected = acknowledged[index]
        at = next((i for i, (a, b) in enumerate(zip(arrived, expected)) if a != b), min(len(arrived), len(expected)))
        lines.append(f"conversation {index}: {len(expected)} acknowledged, {len(arrived)} arrived, first difference at {at}: "
                     f"expected {expected[at:at + 3]}, arrived {arrived[max(0, at - 1):at + 3]}")
    return "; ".join(lines)


class Checks:
    """Named checks, printed as they are made; `finish` prints `N passed, N failed` and exits."""

    def __init__(self):
        self.results = []

    def __call__(self, name, ok, detail=""):
        self.results.append(ok)
        print(f"ok   {name}" if ok else f"FAIL {name}: {detail}", flush=True)

    def finish(self, directory):
        """Removes `directory` when everything passed (keeps it, and says so, otherwise)."""
        passed = sum(self.results)
        failed = len(self.results) - passed
        if failed:
            print(f"logs kept in {directory}")
        else:
            shutil.rmtree(directory, ignore_errors=True)
        print(f"{passed} passed, {failed} failed")
        sys.exit(0 if failed == 0 and self.results else 1)
