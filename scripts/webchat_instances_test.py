#!/usr/bin/env python3
"""A web chat stream held by one Relevo instance is woken by changes made through another, on one
PostgreSQL database (LISTEN/NOTIFY between instances).

Starts a throwaway PostgreSQL (scripts/pg_server.py) and instances A and B on it with one master
key. A visitor gets a token and opens its live transcript on A and writes through A (the panel, a
local receiver, gets conversation.start and the message); the panel's replies are posted to B's
webhook, and a close with a last text goes through B too. Checks that each appears on A's stream
within a few seconds, in order, once; that a stream reopened with Last-Event-ID on B gets only
what came after; and that disabling the web chat through A ends B's stream at the room's next
change. Then, on A: a refused stream leaves its connection serving the next request, a request sent
behind an open stream closes its connection, and SIGTERM ends an open stream at once and the
process exits. Prints `N passed, N failed`.

    python3 scripts/webchat_instances_test.py path/to/relevo
"""
import hashlib, hmac, http.client, json, os, secrets, signal, socket, sys, tempfile, threading, time, urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Checks, Relevo, call, wait_for
from pg_server import PostgresServer

binary = sys.argv[1] if len(sys.argv) > 1 else ".build/debug/relevo"
directory = tempfile.mkdtemp(prefix="relevo-webchat-instances-")
checks = Checks()
ORIGIN = "https://shop.example"
events = []


class Panel(BaseHTTPRequestHandler):
    def do_POST(self):
        events.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_):
        pass


class Stream:
    """A visitor's live transcript, read in a thread: (event id, event name, data) as they come;
    `ended` once the server closed it."""

    def __init__(self, base, path, token, last_event_id=None):
        self.items = []
        self.ended = False
        url = urllib.parse.urlparse(base)
        self.connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        headers = {"authorization": f"Bearer {token}", "origin": ORIGIN}
        if last_event_id:
            headers["last-event-id"] = last_event_id
        self.connection.request("GET", path, headers=headers)
        self.response = self.connection.getresponse()
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        event = {}
        try:
            while True:
                line = self.response.fp.readline().decode()  # the chunked body as sent: size lines are skipped below
                if not line or line.strip() == "0":  # closed, or the last chunk of a finished response
                    self.ended = True
                    return
                line = line.rstrip("\n")
                if line == "":
                    if "data" in event:
                        self.items.append((event.get("id"), event.get("event"), json.loads(event["data"])))
                    event = {}
                elif not line.startswith(":") and ":" in line:
                    field, value = line.split(":", 1)
                    event[field] = value[1:] if value.startswith(" ") else value
        except Exception:
            return

    def texts(self):
        return [data["content"].get("body") for _, name, data in self.items if name == "message"]

    def close(self):
        self.connection.close()


panel = ThreadingHTTPServer(("127.0.0.1", 0), Panel)
threading.Thread(target=panel.serve_forever, daemon=True).start()
pg = PostgresServer()
a = b = None
try:
    pg.start()
    database = pg.create_database("relevo")
    master_key = secrets.token_hex(32)
    a = Relevo(binary, directory, database, name="a", env={"RELEVO_MASTER_KEY": master_key})
    b = Relevo(binary, directory, database, name="b", env={"RELEVO_MASTER_KEY": master_key})
    a.start()
    project, key = a.banner()
    b.start()

    def api(method, path, body=None):
        return call(a.base, method, path, body, key=key)

    secret = api("POST", f"/v1/external-support/{project}",
                 {"webhookUrl": f"http://127.0.0.1:{panel.server_address[1]}/events", "authType": "bearer", "authorization": "t"}
                 )["data"]["signingSecret"]
    api("POST", f"/v1/projects/{project}/bots", {"id": "web", "name": "Web"})
    api("PUT", f"/v1/projects/{project}/bots/web/webchat", {"allowedOrigins": [ORIGIN]})
    chat = f"/webchat/{project}/web"
    admitted = call(a.base, "POST", f"{chat}/visitor", {"host": ORIGIN})["data"]
    token, visitor = admitted["token"], admitted["userId"]
    stream = Stream(a.base, f"{chat}/stream", token)
    checks("the stream opens on A", stream.response.status == 200, str(stream.response.status))

    def visitor_call(base, path, body):
        connection = http.client.HTTPConnection(urllib.parse.urlparse(base).hostname, urllib.parse.urlparse(base).port, timeout=10)
        connection.request("POST", path, json.dumps(body), {"authorization": f"Bearer {token}", "content-type": "application/json"})
        return connection.getresponse().status

    checks("the visitor writes through A", visitor_call(a.base, f"{chat}/messages", {"id": "wm_1", "text": "hello"}) == 200)
    checks("the panel gets conversation.start and the message",
           wait_for(lambda: [e.get("event") or e.get("event_type") for e in events] == ["conversation.start", "message"], 10), str(events))
    start = events[0]

    def reply(reply_id, text):
        body = json.dumps({"project_id": project, "field": "messages", "object": "message_event", "event_type": "incoming_message",
                           "room_id": start["room_id"], "bot_id": "web", "user_id": visitor,
                           "value": {"id": reply_id, "type": "text", "content": {"body": text}}}).encode()
        connection = http.client.HTTPConnection("127.0.0.1", urllib.parse.urlparse(b.base).port, timeout=10)
        connection.request("POST", "/v1/external-support/webhook", body, {
            "content-type": "application/json", "X-Jelou-Signature": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()})
        return connection.getresponse().status

    checks("the panel's replies are posted to B", reply("agent-1", "first reply") == 200 and reply("agent-2", "second reply") == 200)
    checks("they appear on A's stream, in order",
           wait_for(lambda: stream.texts() == ["hello", "first reply", "second reply"], 5), str(stream.items))
    call(b.base, "POST", f"/v1/external-support/{project}/conversations/close",
         {"botId": "web", "userId": visitor, "redirectPayload": {"type": "text", "text": "bye"}}, key=key)
    closed = lambda: any(name == "conversation" and data["state"] == "closed" for _, name, data in stream.items)
    checks("a close through B reaches A's stream: the last text, then the end",
           wait_for(lambda: stream.texts() == ["hello", "first reply", "second reply", "bye"] and closed(), 5)
           and [name for _, name, _ in stream.items if name != "status"][-1] == "conversation", str(stream.items))
    ids = [item[0] for item in stream.items if item[0]]
    checks("nothing twice", len(ids) == len(set(ids)), str(ids))
    stream.close()
    middle = [item[0] for item in stream.items if item[1] == "message"][1]
    resumed = Stream(b.base, f"{chat}/stream", token, last_event_id=middle)
    checks("reopened on B after the second message with Last-Event-ID: only what came after",
           wait_for(lambda: resumed.texts() == ["second reply", "bye"], 5), str(resumed.items))
    call(a.base, "DELETE", f"/v1/projects/{project}/bots/web/webchat", key=key)
    call(a.base, "POST", f"/v1/external-support/{project}/conversations/start", {"botId": "web", "userId": visitor}, key=key)
    checks("the web chat disabled through A, its open stream on B ends at the room's next change", wait_for(lambda: resumed.ended, 5))
    checks("and the visitor's calls are refused", visitor_call(a.base, f"{chat}/messages", {"id": "wm_2", "text": "still there?"}) == 404)
    resumed.close()

    # Served in front of the router: a refused stream leaves its connection serving, and a shutdown
    # ends the streams it holds at once.
    connection = http.client.HTTPConnection("127.0.0.1", urllib.parse.urlparse(a.base).port, timeout=10)
    connection.request("GET", f"{chat}/stream", headers={"authorization": "Bearer not-a-token"})
    refused = connection.getresponse()
    envelope = json.loads(refused.read())
    connection.request("GET", "/version")
    checks("a stream refused with its envelope (401 VISITOR_UNAUTHORIZED), and its connection then answers the next request",
           refused.status == 401 and envelope["error"]["key"] == "VISITOR_UNAUTHORIZED" and connection.getresponse().status == 200,
           f"{refused.status} {envelope}")
    connection.close()
    api("PUT", f"/v1/projects/{project}/bots/web/webchat", {"allowedOrigins": [ORIGIN]})
    held = Stream(a.base, f"{chat}/stream", token)
    checks("with the web chat enabled again the stream opens on A", wait_for(lambda: any(name == "status" for _, name, _ in held.items), 5),
           str(held.items))
    raw = socket.create_connection(("127.0.0.1", urllib.parse.urlparse(a.base).port), timeout=5)
    raw.sendall(f"GET {chat}/stream HTTP/1.1\r\nHost: relevo\r\nAuthorization: Bearer {token}\r\n\r\n".encode())
    opened = raw.recv(65536).decode(errors="replace")
    raw.sendall(b"GET /version HTTP/1.1\r\nHost: relevo\r\n\r\n")
    def closed_by_server():
        try:
            while raw.recv(65536):
                pass
            return True
        except OSError:
            return False
    checks("a request sent behind an open stream, which could never be answered, closes that connection",
           opened.startswith("HTTP/1.1 200") and closed_by_server(), opened[:60])
    raw.close()
    stopping = time.time()
    a.process.send_signal(signal.SIGTERM)
    checks("A shutting down ends its open stream", wait_for(lambda: held.ended, 5))
    checks("and exits within 10 s", wait_for(lambda: not a.alive(), 10), f"{time.time() - stopping:.1f} s")
finally:
    for instance in (a, b):
        if instance:
            instance.stop()
    pg.stop()
    panel.shutdown()

checks.finish(directory)
