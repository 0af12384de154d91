#!/usr/bin/env python3
"""The Swift panel example end to end: a live Relevo, examples/swift-panel (built on RelevoPanelKit)
as the project's panel, and a channel receiver of this script.

A conversation starts, the user writes three text messages and an image; the panel verifies each
event, logs it and answers every text with an echo reply through the signed webhook; the echoes
reach the channel in order, each verified with the bot's channel secret. The conversation closes.
A redelivered event is skipped by the panel (the same webhook-id), and requests that are not
Relevo's (no credential, a wrong secret, an old timestamp) are refused with 401. Prints one line
per check and `N passed, N failed`.

    python3 scripts/swift_panel_test.py path/to/relevo path/to/SwiftPanel
"""
import base64, hashlib, hmac, json, os, socket, subprocess, sys, tempfile, threading, time
import urllib.error, urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Checks, Relevo, call, wait_for
from pg_server import free_port

relevo_binary, panel_binary = (os.path.abspath(path) for path in sys.argv[1:3])
directory = tempfile.mkdtemp(prefix="relevo-swift-panel-")
checks = Checks()
TOKEN = "panel-token-7f3a"


class Channel:
    """Records what Relevo sends to the bot's channel: (X-Jelou-Signature, raw body)."""

    def __init__(self):
        self.received, self.lock = [], threading.Lock()
        channel = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                with channel.lock:
                    channel.received.append((self.headers["X-Jelou-Signature"], raw))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/channel"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def bodies(self):
        with self.lock:
            return [(signature, json.loads(raw), raw) for signature, raw in self.received]


def post(url, body, headers):
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


relevo = Relevo(relevo_binary, directory, f"sqlite://{directory}/relevo.sqlite")
channel = Channel()
panel_process = None
try:
    relevo.start()
    project, key = relevo.banner()
    base = f"/v1/external-support/{project}"
    panel_port = free_port()
    panel_url = f"http://127.0.0.1:{panel_port}/events"
    secret = call(relevo.base, "POST", base, {"webhookUrl": panel_url, "authType": "bearer", "authorization": TOKEN},
                  key=key)["data"]["signingSecret"]
    bot = call(relevo.base, "POST", f"/v1/projects/{project}/bots",
               {"id": "sales", "name": "Sales Bot", "channelWebhookUrl": channel.url}, key=key)["data"]
    channel_secret = bot["channelSigningSecret"]
    call(relevo.base, "PUT", f"/v1/projects/{project}/users/ana", {"names": "Ana Díaz"}, key=key)

    log = open(f"{directory}/panel.log", "w")
    panel_process = subprocess.Popen(
        [panel_binary], stdout=log, stderr=subprocess.STDOUT,
        env=dict(os.environ, RELEVO_URL=relevo.base, SIGNING_SECRETS=secret, PANEL_TOKEN=TOKEN, PORT=str(panel_port)))

    def listening():
        try:
            socket.create_connection(("127.0.0.1", panel_port), timeout=0.2).close()
            return True
        except OSError:
            return False

    checks("the Swift panel starts and listens", wait_for(listening, 30), open(f"{directory}/panel.log").read()[-500:])

    conversation = call(relevo.base, "POST", f"{base}/conversations/start", {"botId": "sales", "userId": "ana"}, key=key)["data"]["_id"]
    texts = ["hola", "mi pedido A-1001 no llegó", "¿me ayudas? <b>gracias</b>"]
    for index, text in enumerate(texts, 1):
        call(relevo.base, "POST", f"/v1/projects/{project}/channel/messages",
             {"botId": "sales", "userId": "ana", "value": {"id": f"wamid-{index}", "type": "text", "content": {"body": text}}}, key=key)
    call(relevo.base, "POST", f"/v1/projects/{project}/channel/messages",
         {"botId": "sales", "userId": "ana",
          "value": {"id": "wamid-4", "type": "image", "content": {"url": "https://cdn.example.com/p.jpg", "mime_type": "image/jpeg"}}},
         key=key)

    def echoes():
        return [body for _, body, _ in channel.bodies() if body["value"]["id"].startswith("echo-")]

    checks("three echo replies reach the channel", wait_for(lambda: len(echoes()) >= 3, 30), f"{len(echoes())} arrived")
    time.sleep(0.5)  # room for a wrong extra echo to show
    checks("in the order of the messages, one each, none for the image",
           [(body["value"]["id"], body["value"]["content"]["body"]) for body in echoes()]
           == [(f"echo-wamid-{index}", f"echo: {text}") for index, text in enumerate(texts, 1)],
           json.dumps(echoes(), ensure_ascii=False))
    checks("each in the conversation, to the user",
           all(body["conversation_id"] == conversation and body["user_id"] == "ana" for body in echoes()))
    checks("each signed with the bot's channel secret",
           all(signature == "sha256=" + hmac.new(channel_secret.encode(), raw, hashlib.sha256).hexdigest()
               for signature, _, raw in channel.bodies()))

    history = call(relevo.base, "GET", f"{base}/conversations/{conversation}?include=messages", key=key)["data"]["messages"]
    order = [item["id"] for item in history]
    checks("the history holds the user's messages and the agent's echoes in order, each echo after its message",
           [item["id"] for item in history if item["direction"] == "user"] == ["wamid-1", "wamid-2", "wamid-3", "wamid-4"]
           and [item["id"] for item in history if item["direction"] == "agent"] == ["echo-wamid-1", "echo-wamid-2", "echo-wamid-3"]
           and all(order.index(f"echo-wamid-{index}") > order.index(f"wamid-{index}") for index in (1, 2, 3)),
           json.dumps(order))

    call(relevo.base, "POST", f"{base}/conversations/close", {"botId": "sales", "userId": "ana"}, key=key)

    def panel_events():
        return call(relevo.base, "GET", f"{base}/events?conversationId={conversation}", key=key)["data"]["events"]

    def all_delivered():
        events = [event for event in panel_events() if event["destination"] == "panel"]
        return len(events) == 6 and all(event["status"] == "delivered" for event in events)

    checks("the panel answered all six events 2xx (start, four messages, close)", wait_for(all_delivered, 30),
           json.dumps(panel_events()))

    def logged(word):
        return open(f"{directory}/panel.log").read().count(word)

    checks("the panel logged the start, the four messages and the close",
           wait_for(lambda: logged("] conversation.start") == 1 and logged("] message\n") == 4 and logged("] conversation.close") == 1, 10),
           open(f"{directory}/panel.log").read()[-1500:])

    # A redelivery arrives with the same webhook-id: the panel answers 2xx and does nothing again.
    first_message = [event for event in panel_events() if event["eventType"] == "message"][-1]["id"]
    call(relevo.base, "POST", f"{base}/events/{first_message}/redeliver", key=key)
    checks("a redelivered event is answered 2xx",
           wait_for(lambda: call(relevo.base, "GET", f"{base}/events/{first_message}", key=key)["data"]["attemptCount"] == 2
                    and call(relevo.base, "GET", f"{base}/events/{first_message}", key=key)["data"]["status"] == "delivered", 30))
    time.sleep(0.5)
    checks("and skipped by the panel: no new log line, no new echo", logged("] message\n") == 4 and len(echoes()) == 3)

    # Requests that are not Relevo's.
    body = json.dumps({"event": "conversation.transfer", "timestamp": 1, "to": "team-b"}).encode()

    def signed(key_bytes, timestamp, message_id="msg_forged"):
        code = hmac.new(key_bytes, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
        return {"content-type": "application/json", "authorization": f"Bearer {TOKEN}", "webhook-id": message_id,
                "webhook-timestamp": str(timestamp), "webhook-signature": "v1," + base64.b64encode(code).decode()}

    now = int(time.time())
    checks("a correctly signed unknown event is accepted", post(panel_url, body, signed(secret.encode(), now)) == 200)
    no_token = signed(secret.encode(), now, "msg_2")
    del no_token["authorization"]
    checks("no credential: 401", post(panel_url, body, no_token) == 401)
    checks("another secret: 401", post(panel_url, body, signed(b"not-the-secret", now, "msg_3")) == 401)
    checks("a timestamp ten minutes old: 401", post(panel_url, body, signed(secret.encode(), now - 600, "msg_4")) == 401)
    checks("a body changed after signing: 401", post(panel_url, body + b" ", signed(secret.encode(), now, "msg_5")) == 401)
    checks("the panel logs why it refused, never the secret",
           wait_for(lambda: logged("refused a request") == 3, 5) and secret not in open(f"{directory}/panel.log").read())
finally:
    if panel_process:
        panel_process.terminate()
        panel_process.wait(timeout=30)
    relevo.stop()
checks.finish(directory)
