#!/usr/bin/env python3
"""Runs every code block of docs/panel-guide.md against a live Relevo, and checks its examples.

Each fenced block of the guide is preceded by a marker line: `<!-- snippet: NAME -->` for code
(```js, ```python, ```sh), which this script runs as printed; `<!-- example: NAME -->` for
data (```json, ```text, ```http), which it compares with what a real Relevo sends and answers; and
`<!-- source: PATH -->` for Swift (```swift), which must be an excerpt, verbatim, of the file PATH
of examples/swift-panel, the package that scripts/swift_panel_test.py builds and runs against a live
Relevo.
A block without a marker, a snippet this script does not run or an example it does not check
fails the test.

The run: Relevo (`serve --allow-insecure-webhooks`, retries 100ms,100ms) on a fresh SQLite file;
the guide's create-integration command points the project at the guide's Node receiver; a
conversation starts and the user writes; the integration then moves to the Python receiver, the
Standard Webhooks receiver and a recorder of this script, each getting a real event. A captured
event is replayed to every receiver genuine (verified, then a duplicate), tampered and without
the credential (both refused). The guide's three reply programs answer as the agent (the
messages appear in the conversation's history), the reply errors of the guide's table are
provoked, the secret is regenerated with the guide's command (old and new secrets per the
guide's table), the guide's close command ends the conversation, and a second conversation
meets 410, 302, 429 and 500 answers before the guide's event-log commands inspect and
redeliver its failed events. Prints one line per check and `N passed, N failed`.

    python3 scripts/panel_guide_test.py path/to/relevo [--guide docs/panel-guide.md]
"""
import argparse, base64, hashlib, hmac, json, os, re, socket, subprocess, sys, tempfile, threading, time
import urllib.error, urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Checks, Relevo, call, wait_for
from pg_server import free_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GUIDE = os.path.join(ROOT, "docs", "panel-guide.md")
CODE = {"js": "mjs", "python": "py", "sh": "sh"}          # fence language → file extension
DATA = {"json", "text", "http"}
RUNNERS = {"mjs": ["node"], "py": ["python3"], "sh": ["sh"]}
ILLUSTRATIONS = {"diagram"}                              # examples with nothing to compare

started = time.time()
parser = argparse.ArgumentParser()
parser.add_argument("binary", help="the relevo binary to run (nothing is built)")
parser.add_argument("--guide", default=GUIDE, help="the guide to test (default: docs/panel-guide.md)")
arguments = parser.parse_args()
binary, GUIDE = os.path.abspath(arguments.binary), os.path.abspath(arguments.guide)
checks = Checks()


def check(name, condition, detail=""):
    checks(name, bool(condition), detail)


directory = tempfile.mkdtemp(prefix="relevo-panel-guide-")


# ---------------------------------------------------------------- the guide's blocks

def read_blocks(text):
    """[(kind, name, language, body, line)] for every fenced block; kind is snippet/example/None."""
    blocks, lines, index = [], text.split("\n"), 0
    while index < len(lines):
        opening = re.match(r"^```(\S*)\s*$", lines[index])
        if not opening:
            index += 1
            continue
        marker = re.match(r"^<!-- (snippet|example|source): ([\w./-]+) -->$", lines[index - 1]) if index else None
        end = index + 1
        while end < len(lines) and lines[end] != "```":
            end += 1
        blocks.append((marker.group(1) if marker else None, marker.group(2) if marker else None,
                       opening.group(1), "\n".join(lines[index + 1:end]) + "\n", index + 1))
        index = end + 1
    return blocks


guide = open(GUIDE, encoding="utf-8").read()
blocks = read_blocks(guide)
snippets, examples = {}, {}
for kind, name, language, body, line in blocks:
    if language in CODE and kind == "snippet" and name not in snippets:
        snippets[name] = (CODE[language], body)
    elif language in DATA and kind == "example" and name not in examples:
        examples[name] = body
    elif language == "swift" and kind == "source":
        path = os.path.normpath(os.path.join(ROOT, name))
        text = open(path, encoding="utf-8").read() if os.path.isfile(path) else ""
        check(f"guide line {line}: the Swift block is an excerpt of {name}, which the Swift panel test builds and runs",
              path.startswith(os.path.join(ROOT, "examples", "swift-panel") + os.sep) and body in text,
              "copy the lines from the file as they are")
    else:
        check(f"guide line {line}: a ```{language} block marked as a {kind or 'nothing'} named {name}", False,
              "every code block needs <!-- snippet: NAME -->, every data block <!-- example: NAME -->, names unique")
code_blocks = sum(1 for block in blocks if block[2] in CODE)
check(f"guide has {len(blocks)} fenced blocks: {code_blocks} code blocks, all marked as snippets",
      code_blocks == len(snippets) and code_blocks > 0, f"{len(snippets)} snippets")

prose = re.sub(r"```.*?\n```", "", guide, flags=re.S)
links = re.findall(r"\]\(([^)\s]+)\)", prose)
outside = [link for link in links if re.match(r"[a-z]+:", link)]
missing = [link for link in links if link not in outside and not link.startswith("#")
           and not os.path.exists(os.path.normpath(os.path.join(os.path.dirname(GUIDE), link.split("#")[0])))]
check(f"the guide's {len(links)} links are relative and exist", not outside and not missing, f"{outside} {missing}")
bare = re.findall(r"https?://\S+", re.sub(r"`[^`]*`", "", prose))
check("no http(s) address outside code", not bare, str(bare))
story = re.findall(r"(?i)\b(sessions?|issues?|before the fix)\b", guide)
check("the guide speaks of the product only", not story, str(story))

for name, (extension, body) in snippets.items():
    with open(os.path.join(directory, f"{name}.{extension}"), "w", encoding="utf-8") as out:
        out.write(body)
ran, compared = set(), set()


def run(name, **variables):
    """Runs a snippet as printed, with the environment `variables`; its CompletedProcess."""
    extension = snippets[name][0]
    ran.add(name)
    environment = dict(os.environ, **BASE_ENV, **{key: str(value) for key, value in variables.items()})
    result = subprocess.run(RUNNERS[extension] + [os.path.join(directory, f"{name}.{extension}")], env=environment,
                            capture_output=True, text=True, timeout=30)
    if result.returncode != 0 or result.stderr:
        check(f"{name} runs cleanly", False, f"exit {result.returncode}: {result.stderr}")
    return result


def load(name, secrets):
    """The module a Python snippet defines (not run as __main__), for SIGNING_SECRETS=`secrets`."""
    ran.add(name)
    os.environ["SIGNING_SECRETS"] = secrets
    namespace = {"__name__": f"snippet_{name}"}
    exec(compile(snippets[name][1], name, "exec"), namespace)
    return namespace


def shape(value):
    """Keys in order, nested, with the JSON type of every leaf."""
    if isinstance(value, dict):
        return [(key, shape(item)) for key, item in value.items()]
    if isinstance(value, list):
        return [shape(item) for item in value]
    return type(value).__name__ if value is not None else "null"


def compare(name, real, detail=""):
    """The example `name` has the keys, key order and value types of `real`."""
    compared.add(name)
    example = json.loads(examples[name])
    check(f"example {name}: same keys, order and types as the real one{detail}", shape(example) == shape(real),
          f"guide {shape(example)}\nreal  {shape(real)}")


def hmac_hex(secret, body):
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def standard_signature(secret, webhook_id, timestamp, body):
    mac = hmac.new(secret.encode(), f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def post(url, body, headers):
    """(status, parsed body or text) of a POST of the bytes `body`."""
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, text = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read()
    try:
        return status, json.loads(text or b"null")
    except ValueError:
        return status, text


def answer_of(output):
    """`STATUS JSON` as the Node and Python reply programs print it."""
    status, _, text = output.strip().partition(" ")
    return int(status), json.loads(text)


# ---------------------------------------------------------------- endpoints

class Recorder:
    """A panel endpoint of this script: records every request (time, headers in order, raw body)
    and answers what `script` says, in turn, then 200."""

    def __init__(self):
        self.requests, self.script, self.lock = [], [], threading.Lock()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with recorder.lock:
                    recorder.requests.append((time.time(), list(self.headers.items()), body))
                    status, extra, text = recorder.script.pop(0) if recorder.script else (200, {}, b"")
                self.send_response(status)
                for key, value in extra.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

            def log_message(self, *_):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def of(self, conversation):
        with self.lock:
            return [(at, dict(headers), body) for at, headers, body in self.requests
                    if json.loads(body)["conversation"]["id"] == conversation]


class Receiver:
    """A receiver snippet running as its own process; `lines` are the JSON lines it printed."""

    def __init__(self, name, secrets, token=None, port=None):
        self.name, self.port, self.lines = name, port or free_port(), []
        self.url = f"http://127.0.0.1:{self.port}/hook"
        extension = snippets[name][0]
        ran.add(name)
        environment = dict(os.environ, PORT=str(self.port), SIGNING_SECRETS=secrets)
        if token:
            environment["PANEL_TOKEN"] = token
        self.process = subprocess.Popen(RUNNERS[extension] + [os.path.join(directory, f"{name}.{extension}")],
                                        env=environment, stdout=subprocess.PIPE, text=True,
                                        stderr=open(os.path.join(directory, f"{name}-{self.port}.stderr"), "w"))
        threading.Thread(target=self._read, daemon=True).start()
        if not wait_for(self._listening, 10):
            raise RuntimeError(f"{name} did not listen on {self.port}")

    def _read(self):
        for line in self.process.stdout:
            try:
                self.lines.append(json.loads(line))
            except ValueError:
                self.lines.append({"unparsed": line})

    def _listening(self):
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.process.returncode}")
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", self.port)) == 0

    def about(self, webhook_id):
        return [line for line in list(self.lines) if line.get("webhookId") == webhook_id]

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=5)


# ---------------------------------------------------------------- the run

relevo = Relevo(binary, directory, f"sqlite://{directory}/relevo.sqlite")
relevo.command[relevo.command.index("--retry-schedule") + 1] = "100ms,100ms"
receivers = []
try:
    relevo.start()
    project, key = relevo.banner()
    base, api = relevo.base, f"/v1/external-support/{project}"
    BASE_ENV = {"RELEVO_URL": base, "PROJECT_ID": project, "API_KEY": key}
    webhook = base + "/v1/external-support/webhook"
    recorder = Recorder()
    token = "panel-token-" + os.urandom(8).hex()
    call(base, "POST", f"/v1/projects/{project}/bots", {"id": "sales-bot", "name": "Sales Bot"}, key)
    call(base, "PUT", f"/v1/projects/{project}/users/ana", {"names": "Ana Díaz"}, key)

    def user_says(user, message_id, text):
        return call(base, "POST", f"/v1/projects/{project}/channel/messages",
                    {"botId": "sales-bot", "userId": user, "value": {"id": message_id, "type": "text", "content": {"body": text}}},
                    key)["data"]

    def point_at(url):
        call(base, "PATCH", api, {"webhookUrl": url}, key)

    # -- 1. create-integration, the Node receiver, a conversation
    node_port = free_port()
    created = run("create-integration", PANEL_URL=f"http://127.0.0.1:{node_port}/hook", PANEL_TOKEN=token)
    answer = json.loads(created.stdout)
    secret0 = answer["data"]["signingSecret"]
    check("create-integration: integration created, signing secret is 64 hex",
          answer["status"] == 1 and answer["data"]["authType"] == "bearer" and re.fullmatch(r"[0-9a-f]{64}", secret0))
    compare("create-answer", answer)

    node = Receiver("node-receiver", secret0, token, port=node_port)
    receivers.append(node)
    conversation = call(base, "POST", f"{api}/conversations/start",
                        {"botId": "sales-bot", "userId": "ana", "initialMessage": "Hola Ana, te atiende un agente",
                         "assignment": {"type": "queue", "target": "sales"}, "metadata": {"orderId": "A-1001"}}, key)["data"]
    conversation_id, room_id = conversation["_id"], conversation["roomId"]
    user_says("ana", "wamid-1", "¿Dónde está mi pedido?")
    kinds = lambda receiver: [line.get("kind") for line in list(receiver.lines) if line.get("verified")]
    wait_for(lambda: len(kinds(node)) >= 2, 5)
    check("node-receiver verified conversation.start and message (signature and bearer token ok)",
          kinds(node) == ["conversation.start", "message"], str(node.lines))

    # -- 2. the Python receiver, 3. the Standard Webhooks receiver
    python_panel = Receiver("python-receiver", secret0, token)
    standard_panel = Receiver("python-standardwebhooks", secret0)
    receivers += [python_panel, standard_panel]
    for receiver, message in ((python_panel, "wamid-2"), (standard_panel, "wamid-3")):
        point_at(receiver.url)
        user_says("ana", message, f"mensaje {message}")
        wait_for(lambda: kinds(receiver) == ["message"], 5)
        check(f"{receiver.name} verified a real message event", kinds(receiver) == ["message"], str(receiver.lines))

    # -- 4. the recorder: a captured request against the guide's request example and the receivers
    point_at(recorder.url)
    user_says("ana", "wamid-4", "Hola")
    wait_for(lambda: len(recorder.of(conversation_id)) == 1, 5)
    _, captured_headers, captured = recorder.of(conversation_id)[0]
    ordered = [name for name, _ in next(request[1] for request in recorder.requests if request[2] == captured)]
    head, _, example_body = examples["request"].partition("\n\n")
    example_headers = [line.split(": ", 1) for line in head.split("\n")[1:]]
    compared.add("request")
    check("example request: the same headers in the same order as a real event",
          [name for name, _ in example_headers] == ordered, f"guide {[n for n, _ in example_headers]}\nreal  {ordered}")
    example_body = example_body.rstrip("\n").encode()
    vector = dict(example_headers)
    secret = re.search(r"signing secret `([0-9a-f]{64})`", guide).group(1)
    check("example request is a valid test vector (Content-Length, X-Jelou-Signature, webhook-signature)",
          int(vector["Content-Length"]) == len(example_body) and vector["X-Jelou-Signature"] == hmac_hex(secret, example_body)
          and vector["webhook-signature"] == standard_signature(secret, vector["webhook-id"], vector["webhook-timestamp"], example_body))
    check("example request body has the real message event's keys and order",
          shape(json.loads(example_body)) == shape(json.loads(captured)))
    check("real event headers: User-Agent Relevo/<version>, bearer credential, webhook-id evt_…, timestamp now",
          re.fullmatch(r"Relevo/\d+\.\d+\.\d+", captured_headers["User-Agent"])
          and captured_headers["User-Agent"].split("/")[1] == call(base, "GET", "/version")["version"]
          and captured_headers["Authorization"] == f"Bearer {token}"
          and re.fullmatch(r"evt_[0-9a-f]{24}", captured_headers["webhook-id"])
          and abs(int(captured_headers["webhook-timestamp"]) - time.time()) < 60, str(captured_headers))
    compare("message", json.loads(captured))
    events = call(base, "GET", f"{api}/events?conversationId={conversation_id}&limit=50", None, key)["data"]["events"]
    start_event = next(event for event in events if event["eventType"] == "conversation.start")
    compare("conversation.start", call(base, "GET", f"{api}/events/{start_event['id']}", None, key)["data"]["body"])
    reserialized = subprocess.run(["node", "-e", "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>"
                                   "process.stdout.write(JSON.stringify(JSON.parse(s))))"],
                                  input=captured, capture_output=True).stdout
    check("the body survives JSON.stringify(JSON.parse(body)) byte for byte", reserialized == captured)

    webhook_id = captured_headers["webhook-id"]
    replay = {name: captured_headers[name] for name in
              ("Content-Type", "X-Jelou-Signature", "webhook-id", "webhook-timestamp", "webhook-signature", "Authorization")}
    tampered = captured.replace(b'"body":"Hola"', b'"body":"Hola!"')
    for receiver in (node, python_panel, standard_panel):
        genuine = post(receiver.url, captured, replay)[0], post(receiver.url, captured, replay)[0]
        altered = post(receiver.url, tampered, replay)[0]
        wait_for(lambda: len(receiver.about(webhook_id)) >= 3 - (receiver is standard_panel), 3)
        seen = receiver.about(webhook_id)
        expected = [{"verified": True}, {"duplicate": True}, {"verified": False}]
        if receiver is standard_panel:  # it answers a repeat without printing
            expected = [expected[0], expected[2]]
        check(f"{receiver.name}: a replayed real event verifies once, its repeat is a duplicate (200, 200), "
              f"a tampered body is refused (401)",
              genuine == (200, 200) and altered == 401 and len(seen) == len(expected)
              and all(all(line.get(k) == v for k, v in want.items()) for line, want in zip(seen, expected)),
              f"{genuine} {altered} {seen}")
    without_token = {name: value for name, value in replay.items() if name != "Authorization"}
    check("node-receiver and python-receiver refuse a genuine event without the bearer token (401)",
          post(node.url, captured, without_token)[0] == 401 and post(python_panel.url, captured, without_token)[0] == 401)

    # -- 5. replies
    reply = dict(ROOM_ID=room_id, BOT_ID="sales-bot", USER_ID="ana", SIGNING_SECRET=secret0)
    by_sh = json.loads(run("reply-sh", MESSAGE_ID="agent-1", **reply).stdout)
    by_node = answer_of(run("reply-node", MESSAGE_ID="agent-2", **reply).stdout)
    first_python = run("reply-python", MESSAGE_ID="agent-3", **reply).stdout
    by_python = answer_of(first_python)
    check("reply-sh, reply-node and reply-python: 200 Message received, with their messageId and the conversation",
          by_sh["data"] == {"messageId": "agent-1", "conversationId": conversation_id}
          and by_node == (200, {**by_sh, "data": {"messageId": "agent-2", "conversationId": conversation_id}})
          and by_python == (200, {**by_sh, "data": {"messageId": "agent-3", "conversationId": conversation_id}}),
          f"{by_sh} {by_node} {by_python}")
    compare("reply-answer", by_sh)
    check("reply-python sent again answers exactly the first answer",
          run("reply-python", MESSAGE_ID="agent-3", **reply).stdout == first_python)
    history = call(base, "GET", f"{api}/conversations/{conversation_id}?include=messages", None, key)["data"]["messages"]
    agent = [(message["id"], message["content"]["body"]) for message in history if message["direction"] == "agent"]
    check("the three agent messages are in the conversation's history, in order, text as sent",
          agent == [("agent-1", "Ya lo reviso"), ("agent-2", "Ya está en camino 🚚"), ("agent-3", "¿Algo más, Ana?")], str(agent))
    reply_body = {"field": "messages", "object": "message_event", "event_type": "incoming_message", "project_id": project,
                  "room_id": room_id, "bot_id": "sales-bot", "user_id": "ana",
                  "value": {"id": "x", "type": "text", "content": {"body": "x"}}}
    compared.add("reply-fields")
    listed = [name.strip() for line in examples["reply-fields"].strip().split("\n") for name in line.split("  ")[0].split(",")]
    check("example reply-fields lists the body's fields in order", listed == list(reply_body), str(listed))

    def agent_says(message_id, secret, change=None, headers=None, raw=None):
        body = {**reply_body, "value": {"id": message_id, "type": "text", "content": {"body": "hola"}}}
        if change:
            change(body)
        data = raw if raw is not None else json.dumps(body).encode()
        return post(webhook, data, headers if headers is not None else
                    {"Content-Type": "application/json", "X-Jelou-Signature": hmac_hex(secret, data)})

    signed = json.dumps({**reply_body, "value": {"id": "agent-x", "type": "text", "content": {"body": "a"}}}).encode()
    cases = {
        "a tampered body": (401, "INVALID_SIGNATURE", post(webhook, signed.replace(b'"a"', b'"b"'),
                                                          {"Content-Type": "application/json", "X-Jelou-Signature": hmac_hex(secret0, signed)})),
        "no signature": (401, "INVALID_SIGNATURE", agent_says("agent-x", secret0, headers={"Content-Type": "application/json"})),
        "an unknown project": (401, "INVALID_SIGNATURE", agent_says("agent-x", secret0, lambda b: b.update(project_id="nope"))),
        "another room": (404, "ROOM_NOT_FOUND", agent_says("agent-x", secret0, lambda b: b.update(room_id="room-x"))),
        "a wrong event_type": (422, "VALIDATOR_ERROR", agent_says("agent-x", secret0, lambda b: b.update(event_type="message"))),
        "a body that is not JSON": (400, "BAD_REQUEST", agent_says("agent-x", secret0, raw=b"nope")),
        "Content-Type text/plain": (415, "UNSUPPORTED_MEDIA_TYPE", post(webhook, signed, {
            "Content-Type": "text/plain", "X-Jelou-Signature": hmac_hex(secret0, signed)})),
        "a body over 256 KiB": (413, "PAYLOAD_TOO_LARGE", agent_says("agent-x", secret0, raw=b" " * (256 * 1024 + 1))),
    }
    for case, (status, error_key, (got, body)) in cases.items():
        check(f"reply with {case}: {status} {error_key}",
              got == status and isinstance(body, dict) and body["error"]["key"] == error_key, f"{got} {body}")
    compare("reply-error", cases["a tampered body"][2][1])
    time.sleep(0.3)
    check("the panel's own messages are not sent back to it", len(recorder.of(conversation_id)) == 1)

    # -- 6. rotation
    regenerated = json.loads(run("regenerate").stdout)
    secret1 = regenerated["data"]["signingSecret"]
    check("regenerate: a new 64-hex secret", re.fullmatch(r"[0-9a-f]{64}", secret1) and secret1 != secret0, str(regenerated))
    compare("regenerate-answer", regenerated)
    old, new = (answer_of(run("reply-python", MESSAGE_ID=message, **{**reply, "SIGNING_SECRET": value}).stdout)[0]
                for message, value in (("agent-old", secret0), ("agent-new", secret1)))
    check("during the grace period replies signed with the old and with the new secret are accepted (200, 200)",
          (old, new) == (200, 200), f"{old} {new}")
    user_says("ana", "wamid-5", "¿Sigues ahí?")
    wait_for(lambda: len(recorder.of(conversation_id)) == 2, 5)
    _, rotated_headers, rotated = recorder.of(conversation_id)[1]
    check("during the grace period X-Jelou-Signature is made with the new secret only",
          rotated_headers["X-Jelou-Signature"] == hmac_hex(secret1, rotated)
          and rotated_headers["X-Jelou-Signature"] != hmac_hex(secret0, rotated))
    standard_with = lambda secrets: load("python-standardwebhooks", secrets)["verify"](rotated, rotated_headers)
    check("during the grace period webhook-signature has two entries; the Standard Webhooks verify() passes "
          "with the old secret alone and with the new one alone",
          len(rotated_headers["webhook-signature"].split(" ")) == 2 and standard_with(secret0) and standard_with(secret1))
    hmac_with = lambda secrets: load("python-receiver", secrets)["signature_is_valid"](rotated, rotated_headers["X-Jelou-Signature"])
    check("python-receiver's signature_is_valid: refused with the old secret alone, accepted with new,old",
          not hmac_with(secret0) and hmac_with(f"{secret1},{secret0}"))
    rotated_replay = {name: rotated_headers[name] for name in replay}
    both = Receiver("node-receiver", f"{secret1},{secret0}", token)
    receivers.append(both)
    check("node-receiver: the old secret alone refuses the event (401), SIGNING_SECRETS=new,old accepts it (200)",
          post(node.url, rotated, rotated_replay)[0] == 401 and post(both.url, rotated, rotated_replay)[0] == 200)
    regenerated_at = time.time()
    secret2 = call(base, "POST", f"{api}/secret/regenerate", {"graceSeconds": 2}, key)["data"]["signingSecret"]
    statuses = [answer_of(run("reply-python", MESSAGE_ID=message, **{**reply, "SIGNING_SECRET": value}).stdout)[0]
                for message, value in (("agent-r0", secret0), ("agent-r1", secret1))]
    in_time = time.time() - regenerated_at < 2
    check("regenerating again (grace 2 s): the oldest secret stops at once (401), the replaced one still works (200)",
          statuses == [401, 200] and in_time, f"{statuses} in time: {in_time}")
    time.sleep(max(0, regenerated_at + 2.3 - time.time()))
    statuses = [answer_of(run("reply-python", MESSAGE_ID=message, **{**reply, "SIGNING_SECRET": value}).stdout)[0]
                for message, value in (("agent-r2", secret1), ("agent-r3", secret2))]
    check("after the grace period only the newest secret is accepted (401, 200)", statuses == [401, 200], str(statuses))

    # -- 7. close
    closed = json.loads(run("close", BOT_ID="sales-bot", USER_ID="ana").stdout)
    check("close: 200, conversation closed by the operator",
          closed["status"] == 1 and closed["data"]["state"] == "closed" and closed["data"]["endedReason"] == "closed_by_operator")
    wait_for(lambda: len(recorder.of(conversation_id)) == 3, 5)
    arrivals = recorder.of(conversation_id)
    close_body = json.loads(arrivals[-1][2])
    check("conversation.close arrived after the messages, signed with the current secret",
          [json.loads(body).get("event") or json.loads(body)["event_type"] for _, _, body in arrivals]
          == ["message", "message", "conversation.close"] and arrivals[-1][1]["X-Jelou-Signature"] == hmac_hex(secret2, arrivals[-1][2]))
    compare("conversation.close", close_body)
    after_close = agent_says("agent-late", secret2)
    repeat = answer_of(run("reply-python", MESSAGE_ID="agent-3", **{**reply, "SIGNING_SECRET": secret2}).stdout)
    check("after the close: a new reply is 409 CONVERSATION_NOT_ACTIVE, a repeated one gets its first answer",
          after_close[0] == 409 and after_close[1]["error"]["key"] == "CONVERSATION_NOT_ACTIVE" and repeat == by_python,
          f"{after_close} {repeat}")

    # -- 8. failures, order, the event log
    call(base, "PUT", f"/v1/projects/{project}/users/luis", {"names": "Luis"}, key)
    with recorder.lock:
        recorder.script = [(410, {}, b"gone"), (302, {"Location": "http://127.0.0.1:9/elsewhere"}, b""),
                           (429, {"Retry-After": "60"}, b""), (500, {}, b"panel bug")]
    second = call(base, "POST", f"{api}/conversations/start", {"botId": "sales-bot", "userId": "luis"}, key)["data"]["_id"]
    user_says("luis", "luis-1", "uno")
    user_says("luis", "luis-2", "dos")
    wait_for(lambda: len(recorder.of(second)) == 5, 10)
    arrivals = recorder.of(second)
    ids = [headers["webhook-id"] for _, headers, _ in arrivals]
    kinds_seen = [(json.loads(body).get("event") or "message", (json.loads(body).get("value") or {}).get("id"))
                  for _, _, body in arrivals]
    check("in order: start (410, given up), luis-1 three times (302, 429, 500), then luis-2",
          kinds_seen == [("conversation.start", None)] + [("message", "luis-1")] * 3 + [("message", "luis-2")], str(kinds_seen))
    check("the attempts of one event carry the same webhook-id, body and X-Jelou-Signature",
          len(set(ids[1:4])) == 1 and len({body for _, _, body in arrivals[1:4]}) == 1
          and len({headers["X-Jelou-Signature"] for _, headers, _ in arrivals[1:4]}) == 1 and len(set(ids)) == 3)
    gap = arrivals[3][0] - arrivals[2][0]
    check(f"Retry-After 60 on 429 is capped at twice the step (100ms): next attempt after {gap:.2f} s",
          0.15 <= gap < 1.0)
    given_up, retried = ids[0], ids[1]
    wait_for(lambda: call(base, "GET", f"{api}/events/{retried}", None, key)["data"]["status"] == "failed", 3)
    inspected = run("events-inspect", EVENT_ID=given_up).stdout.strip().split("\n")
    listing, detail = json.loads(inspected[0])["data"]["events"], json.loads(inspected[1])["data"]
    failed = {event["id"]: event for event in listing}
    attempts = call(base, "GET", f"{api}/events/{retried}", None, key)["data"]["attempts"]
    check("events-inspect lists both failed events: 410 after 1 attempt, the other after 3 (redirect, http_status ×2)",
          set(failed) == {given_up, retried} and failed[given_up]["attemptCount"] == 1 and failed[retried]["attemptCount"] == 3
          and [(a["statusCode"], a["errorClass"]) for a in attempts] == [(302, "redirect"), (429, "http_status"), (500, "http_status")]
          and detail["attempts"][0]["statusCode"] == 410 and detail["attempts"][0]["responseBody"] == "gone",
          f"{listing} {attempts}")
    compared.add("event")
    example_event = json.loads(examples["event"])
    check("example event: same keys, order and types as the real failed event",
          shape(example_event["data"]) == shape(detail), f"guide {shape(example_event['data'])}\nreal  {shape(detail)}")
    redelivered = [json.loads(line) for line in run("events-redeliver", EVENT_ID=given_up).stdout.strip().split("\n")]
    check("events-redeliver: the one event queued (pending), then the bulk call queues the other failed one (count 1)",
          redelivered[0]["data"] == {"id": given_up, "status": "pending"} and redelivered[1]["data"] == {"count": 1}, str(redelivered))
    wait_for(lambda: len(recorder.of(second)) == 7, 5)
    again = recorder.of(second)[5:]
    check("redelivered events arrive again with the same webhook-id and the same body bytes",
          sorted(headers["webhook-id"] for _, headers, _ in again) == sorted([given_up, retried])
          and all(body == next(b for _, h, b in arrivals if h["webhook-id"] == headers["webhook-id"]) for _, headers, body in again))
except Exception as error:  # a step that could not even be checked
    import traceback
    traceback.print_exc()
    check("the run went through", False, repr(error))
finally:
    for receiver in receivers:
        receiver.stop()
    relevo.stop()

check(f"every code block ran: {len(ran & set(snippets))} of {len(snippets)} ({', '.join(sorted(snippets))})",
      ran >= set(snippets) and snippets, f"not run: {sorted(set(snippets) - ran)}")
unchecked = set(examples) - compared - ILLUSTRATIONS
check(f"every data block checked: {len(compared & set(examples))} of {len(examples)} "
      f"(not compared, illustrations: {', '.join(sorted(ILLUSTRATIONS & set(examples)))})",
      not unchecked, f"not checked: {sorted(unchecked)}")
print(f"{time.time() - started:.1f} s")
checks.finish(directory)
