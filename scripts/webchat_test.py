#!/usr/bin/env python3
"""The web chat in a real browser (headless Chromium driven by Playwright) against a live Relevo,
a live panel and host pages served from other origins.

The panel verifies every event (Standard Webhooks signature with the integration's secret) and
answers each visitor message through the signed panel webhook. The host page on an allowed origin
embeds the widget with one script tag; a visitor writes, the panel receives `conversation.start`
and `message`, and its replies appear without a reload. Then: a reload keeps the transcript;
going offline and back loses and duplicates nothing; markup from the visitor and the agent stays
text; a page on an origin not allowed gets no widget; a wrong identity HMAC is refused and a right
one recognised; "talk to a person" mode; a panel that cannot be reached is reported to the
visitor; the console's sandbox shows the round trip; keyboard use and 320 px. Screenshots go to
--screenshots. Prints one line per check and `N passed, N failed`.

    python3 scripts/webchat_test.py path/to/relevo [--screenshots DIR]
"""
import argparse, base64, hashlib, hmac, json, os, re, sys, tempfile, threading, time, urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Checks, Relevo, call, status_of, wait_for

from playwright.sync_api import sync_playwright

parser = argparse.ArgumentParser()
parser.add_argument("binary")
parser.add_argument("--screenshots", default=None)
arguments = parser.parse_args()
directory = tempfile.mkdtemp(prefix="relevo-webchat-")
shots = arguments.screenshots or os.path.join(directory, "screenshots")
os.makedirs(shots, exist_ok=True)
checks = Checks()

XSS_IMG = '<img src=x onerror="window.__xss=\'img\'">'
XSS_SCRIPT = "<script>window.__xss='script'</script>"


class Panel:
    """Verifies each event; answers visitor messages through the signed webhook (in order, after
    answering the event), and records what it got. While `failing`, answers 500."""

    def __init__(self):
        self.secret = None
        self.relevo = None
        self.events = []  # verified bodies, in arrival order
        self.forged = 0
        self.failing = False
        self.replying = True
        self.lock = threading.Lock()
        self.outbox = []
        self.wake = threading.Event()
        panel = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                if panel.failing:
                    self.send_response(500)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                ok = panel.verify(self.headers, raw)
                self.send_response(200 if ok else 401)
                self.send_header("Content-Length", "0")
                self.end_headers()
                if not ok:
                    panel.forged += 1
                    return
                body = json.loads(raw)
                with panel.lock:
                    seen = any(event.get("_id") == self.headers["webhook-id"] for event in panel.events)
                    if not seen:
                        body["_id"] = self.headers["webhook-id"]
                        panel.events.append(body)
                if not seen and body.get("event_type") == "message" and panel.replying:
                    text = body["value"]["content"].get("body", "")
                    panel.reply(body, reply_to(text))

            def log_message(self, *_):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/events"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        threading.Thread(target=self.send_replies, daemon=True).start()

    def verify(self, headers, raw):
        message_id, timestamp, signatures = headers["webhook-id"], headers["webhook-timestamp"], headers["webhook-signature"]
        if not (message_id and timestamp and signatures) or abs(time.time() - int(timestamp)) > 300:
            return False
        expected = base64.b64encode(hmac.new(self.secret.encode(), f"{message_id}.{timestamp}.".encode() + raw, hashlib.sha256).digest()).decode()
        return any(hmac.compare_digest(candidate.split(",", 1)[-1], expected) for candidate in signatures.split())

    def reply(self, event, text, reply_id=None):
        with self.lock:
            self.outbox.append((event, text, reply_id or "agent-" + os.urandom(6).hex()))
        self.wake.set()

    def send_replies(self):
        while True:
            self.wake.wait()
            self.wake.clear()
            while True:
                with self.lock:
                    if not self.outbox:
                        break
                    event, text, reply_id = self.outbox.pop(0)
                body = json.dumps({
                    "project_id": event["project_id"], "field": "messages", "object": "message_event", "event_type": "incoming_message",
                    "room_id": event["room_id"], "bot_id": event["bot"]["id"], "user_id": event["contact"]["id"],
                    "value": {"id": reply_id, "type": "text", "content": {"body": text}}}).encode()
                signature = "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
                request = urllib.request.Request(f"{self.relevo}/v1/external-support/webhook", body, method="POST", headers={
                    "content-type": "application/json", "X-Jelou-Signature": signature})
                for _ in range(50):
                    try:
                        urllib.request.urlopen(request, timeout=5).read()
                        break
                    except Exception:
                        time.sleep(0.1)

    def of_kind(self, kind, user=None):
        with self.lock:
            found = [e for e in self.events if (e.get("event") == kind or e.get("event_type") == kind)]
        return [e for e in found if user is None or e["contact"]["id"] == user]


def reply_to(text):
    if "order" in text:
        return "Hi Carla! It left our warehouse this morning; you can follow it at https://shop.example/track/1042."
    if text.startswith("markup"):
        return f"agent markup {XSS_IMG}{XSS_SCRIPT} and a link https://example.com/help?x=1."
    return "Echo: " + text


class Host:
    """Serves one page embedding the widget, at http://HOST:port/ (its own origin)."""

    def __init__(self, hostname, snippet):
        self.snippet = snippet
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                page = ("<!doctype html><html lang='en'><head><meta charset='utf-8'>"
                        "<meta name='viewport' content='width=device-width, initial-scale=1'><title>Shop</title></head>"
                        "<body style='font-family:sans-serif;margin:2rem'><h1>Acme Shop</h1><p>Questions? Chat with us.</p>"
                        f"{host.snippet}</body></html>").encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *_):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://{hostname}:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


panel = Panel()
relevo = Relevo(arguments.binary, directory, f"sqlite://{directory}/relevo.sqlite", extra=["--webchat-rate-limit", "0"])
relevo.command[relevo.command.index("--retry-schedule") + 1] = "200ms,200ms,200ms"
try:
    relevo.start()
    panel.relevo = relevo.base
    project, key = relevo.banner()
    base = f"/v1/external-support/{project}"

    def api(method, path, body=None):
        return call(relevo.base, method, path, body, key=key)

    panel.secret = api("POST", base, {"webhookUrl": panel.url, "authType": "bearer", "authorization": "t"})["data"]["signingSecret"]
    api("POST", f"/v1/projects/{project}/bots", {"id": "support", "name": "Acme Support"})
    chat_path = f"/v1/projects/{project}/bots/support/webchat"
    code, text, _ = status_of(relevo.base, "GET", chat_path, key=key)
    checks("a bot without a web chat: 404 WEBCHAT_NOT_FOUND", code == 404 and "WEBCHAT_NOT_FOUND" in str(text), f"{code} {text}")
    code, text, _ = status_of(relevo.base, "PUT", chat_path, {"allowedOrigins": ["https://shop.example/path", "*"]}, key=key)
    checks("origins with a path or a wildcard: 422 naming each", code == 422 and "allowedOrigins[0]" in str(text) and "allowedOrigins[1]" in str(text),
           f"{code} {text}")
    code, text, _ = status_of(relevo.base, "PUT", chat_path, {"allowedOrigins": []}, key=key)
    checks("no origin at all: 422", code == 422 and "allowedOrigins" in str(text), f"{code} {text}")

    allowed = Host("localhost", "")
    other = Host("127.0.0.1", "")
    saved = api("PUT", chat_path, {"allowedOrigins": [allowed.origin], "greeting": f"Hi! {XSS_IMG} How can we help?",
                                   "identityVerification": True, "agentTimeoutSeconds": 5})["data"]
    identity_secret = saved["identitySecret"]
    checks("enabling shows the identity secret once", len(identity_secret) == 64 and "identitySecret" not in api("GET", chat_path)["data"])
    snippet = f'<script src="{relevo.base}{saved["widgetPath"]}" async></script>'
    allowed.snippet = other.snippet = snippet
    frame_url = f"{relevo.base}/webchat/{project}/support/frame"
    code, _, _ = status_of(relevo.base, "GET", f"/webchat/{project}/support/frame?host={other.origin}")
    checks("the frame for an origin not allowed: 403", code == 403, str(code))

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))

        def frame_of(p):
            for _ in range(100):
                for frame in p.frames:
                    if "/frame?" in frame.url:
                        return frame
                p.wait_for_timeout(100)
            return None

        def shoot(p, name):
            p.wait_for_timeout(200)
            p.screenshot(path=os.path.join(shots, f"{name}.png"))

        def shown(frame, direction=None):
            selector = "[data-relevo=message]" + (f"[data-relevo-direction={direction}]" if direction else "")
            return frame.evaluate(f"""() => Array.from(document.querySelectorAll('{selector}'),
                item => [item.dataset.relevoId, item.dataset.relevoDirection, item.querySelector('.bubble').textContent])""")

        def write(frame, text):
            frame.fill("[data-relevo=input]", text)
            frame.click("[data-relevo=send]")

        def visit(viewport=None, locale="en-US", script=None):
            """A new visitor (a browser context of its own) on the allowed page: (context, page, widget frame)."""
            ctx = browser.new_context(viewport=viewport or {"width": 1280, "height": 800}, locale=locale)
            p = ctx.new_page()
            allowed.snippet = script or snippet
            p.goto(allowed.origin + "/")
            allowed.snippet = snippet
            return ctx, p, frame_of(p)

        page.goto(allowed.origin + "/")
        frame = frame_of(page)
        checks("the allowed page gets the widget frame", frame is not None)
        frame.wait_for_selector("#launcher")
        shoot(page, "launcher")
        frame.click("#launcher")
        frame.wait_for_selector("#panel:not([hidden])")
        greeting = frame.inner_text(".greeting")
        checks("the greeting shows, its markup as text", "<img src=x" in greeting and frame.evaluate("document.querySelectorAll('img').length") == 0, greeting)
        write(frame, "hello, I need help")
        checks("the panel receives conversation.start, verified, marked as web chat",
               wait_for(lambda: len(panel.of_kind("conversation.start")) == 1, 10)
               and panel.of_kind("conversation.start")[0]["metadata"].get("source") == "webchat"
               and panel.of_kind("conversation.start")[0]["metadata"].get("pageUrl", "").startswith(allowed.origin),
               str(panel.of_kind("conversation.start")))
        visitor = panel.of_kind("conversation.start")[0]["contact"]["id"]
        checks("then the message", wait_for(lambda: len(panel.of_kind("message", visitor)) == 1, 10)
               and panel.of_kind("message", visitor)[0]["value"]["content"]["body"] == "hello, I need help")
        checks("the panel's reply appears without a reload",
               wait_for(lambda: any(text == "Echo: hello, I need help" for _, _, text in shown(frame, "agent")), 10), str(shown(frame)))
        metrics = urllib.request.urlopen(relevo.base + "/metrics").read().decode()
        checks("its live transcript has a connection of its own (/metrics: 1 own, 0 shared)",
               'relevo_webchat_streams{connection="own"} 1.0' in metrics and 'relevo_webchat_streams{connection="shared"} 0.0' in metrics,
               "\n".join(line for line in metrics.splitlines() if "webchat" in line))
        write(frame, f"markup {XSS_IMG}{XSS_SCRIPT}")
        checks("markup from visitor and agent shows as text and runs nothing",
               wait_for(lambda: any("agent markup <img" in text for _, _, text in shown(frame, "agent")), 10)
               and frame.evaluate("window.__xss") is None and page.evaluate("window.__xss") is None
               and frame.evaluate("document.querySelectorAll('.transcript img, .transcript script').length") == 0
               and any("markup <img src=x" in text for _, _, text in shown(frame, "user")), str(shown(frame)))
        links = frame.evaluate("() => Array.from(document.querySelectorAll('.transcript a'), a => [a.href, a.rel, a.target])")
        checks("a link in a message is clickable, without the trailing period, opened apart",
               ["https://example.com/help?x=1", "noopener noreferrer nofollow", "_blank"] in links, str(links))
        hooks = frame.evaluate("""() => [document.querySelector('[data-relevo=input]')?.tagName, document.querySelector('[data-relevo=send]')?.tagName,
            Array.from(new Set(Array.from(document.querySelectorAll('[data-relevo=message]'), m => m.dataset.relevoDirection))).sort().join()]""")
        checks("the automation hooks are there", hooks == ["TEXTAREA", "BUTTON", "agent,user"], str(hooks))
        shoot(page, "desktop")
        page.screenshot(path=os.path.join(shots, "widget-desktop.png"))

        before = shown(frame)
        page.reload()
        frame = frame_of(page)
        frame.click("#launcher")
        checks("a reload keeps the transcript (same messages, same order)", wait_for(lambda: shown(frame) == before, 10),
               f"{before} vs {shown(frame)}")

        context.set_offline(True)
        page.wait_for_timeout(500)
        write(frame, "offline one")
        write(frame, "offline two")
        conversation_event = panel.of_kind("conversation.start")[0]
        panel.reply(conversation_event, "sent while you were offline", "agent-offline")
        page.wait_for_timeout(1500)
        pending = frame.evaluate("document.querySelectorAll('.msg.pending').length")
        context.set_offline(False)

        def settled():
            texts = [text for _, _, text in shown(frame)]
            return ("offline one" in texts and "offline two" in texts and "sent while you were offline" in texts
                    and "Echo: offline two" in texts and not frame.evaluate("document.querySelectorAll('.msg.pending').length"))

        checks("offline: the two messages wait as pending", pending == 2, str(pending))
        checks("back online: everything arrives", wait_for(settled, 20), str(shown(frame)))
        ids = [item[0] for item in shown(frame)]
        bodies = [event["value"]["content"]["body"] for event in panel.of_kind("message", visitor)]
        checks("nothing shown twice", len(ids) == len(set(ids)), str(ids))
        checks("the panel got each message once, in order",
               bodies == ["hello, I need help", f"markup {XSS_IMG}{XSS_SCRIPT}", "offline one", "offline two"], str(bodies))
        texts = [text for _, _, text in shown(frame)]
        checks("order kept in the widget", texts.index("offline one") < texts.index("offline two") < texts.index("Echo: offline two"), str(texts))

        # Closing from the panel side: the close text and the end reach the widget live.
        api("POST", f"{base}/conversations/close", {"botId": "support", "userId": visitor,
                                                     "redirectPayload": {"type": "text", "text": "Thanks for chatting!"}})
        checks("the close text and the end of the conversation appear live",
               wait_for(lambda: any(t == "Thanks for chatting!" for _, d, t in shown(frame, "system"))
                        and "The conversation has ended." in frame.inner_text(".transcript"), 10),
               frame.evaluate("document.getElementById('transcript').outerHTML"))
        checks("the panel got conversation.close", wait_for(lambda: len(panel.of_kind("conversation.close")) == 1, 10))
        checks("nothing was sent to a channel webhook for this visitor",
               all(e["destination"] == "panel" for e in api("GET", f"{base}/events?limit=200")["data"]["events"]))
        checks("no script error on the page or in the widget", not errors, str(errors))

        # A page on an origin not allowed gets nothing.
        stranger = context.new_page()
        stranger.goto(other.origin + "/")
        stranger.wait_for_timeout(2000)
        checks("a page on an origin not allowed gets no widget",
               stranger.evaluate("document.querySelectorAll('iframe').length") == 0 and all("/frame?" not in f.url for f in stranger.frames))
        stranger.close()

        # Signed-in users: a wrong HMAC is refused, a right one recognised.
        def identified(user_id, user_hash, locale="en-US"):
            return visit(locale=locale, script=snippet.replace(
                "<script ", f'<script data-user-id="{user_id}" data-user-hash="{user_hash}" data-user-name="Carla" '))

        good = hmac.new(identity_secret.encode(), b"customer-42", hashlib.sha256).hexdigest()
        ctx, p, f = identified("customer-42", "0" * 64)
        f.click("#launcher")
        checks("a wrong identity HMAC is refused, and the visitor told",
               wait_for(lambda: "could not confirm" in f.inner_text("#notice"), 10) and f.is_disabled("[data-relevo=input]"), f.inner_text("#panel"))
        code, text, _ = status_of(relevo.base, "POST", f"/webchat/{project}/support/visitor",
                                  {"host": allowed.origin, "userId": "customer-42", "userHash": "0" * 64})
        checks("the visitor API says 403 IDENTITY_NOT_VERIFIED", code == 403 and "IDENTITY_NOT_VERIFIED" in str(text), f"{code} {text}")
        ctx.close()
        ctx, p, f = identified("customer-42", good, locale="es-ES")
        f.click("#launcher")
        write(f, "hola")
        checks("a right HMAC: the site's user id reaches the panel, with the name given",
               wait_for(lambda: any(e["contact"] == {"id": "customer-42", "name": "Carla"} for e in panel.of_kind("message")), 10))
        checks("the widget speaks the browser's language (es)", f.get_attribute("[data-relevo=send]", "data-relevo") == "send"
               and f.inner_text("[data-relevo=send]") == "Enviar" and f.evaluate("document.documentElement.lang") == "es")
        ctx.close()

        # Keyboard and screen reader, and 320 px.
        ctx, p, f = visit({"width": 320, "height": 640}, "pt-BR")
        f.wait_for_selector("#launcher")
        f.focus("#launcher")
        p.keyboard.press("Enter")
        f.wait_for_selector("#panel:not([hidden])")
        checks("by keyboard: Enter on the launcher opens it with the input focused",
               f.evaluate("document.activeElement.dataset.relevo") == "input")
        p.keyboard.type("oi, tudo bem?")
        p.keyboard.press("Enter")
        checks("Enter sends", wait_for(lambda: any(t == "oi, tudo bem?" for _, _, t in shown(f, "user")), 10))
        checks("Portuguese, a live region and labels",
               f.evaluate("document.documentElement.lang") == "pt" and f.get_attribute("#transcript", "role") == "log"
               and f.inner_text("#input-label") == "Mensagem")
        width = p.evaluate("document.querySelector('iframe').getBoundingClientRect().width")
        overflow = f.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        checks("at 320 px the open widget fills the width, without horizontal scrolling", width == 320 and overflow <= 0, f"{width} {overflow}")
        checks("the agent's reply arrives at 320 px too", wait_for(lambda: any(t == "Echo: oi, tudo bem?" for _, _, t in shown(f, "agent")), 10))
        p.screenshot(path=os.path.join(shots, "widget-320.png"))
        p.keyboard.press("Escape")
        checks("Escape closes it and gives focus back to the launcher",
               f.evaluate("document.getElementById('panel').hidden && document.activeElement.id === 'launcher'"))
        visitor_pt = [e for e in panel.of_kind("message") if e["value"]["content"].get("body") == "oi, tudo bem?"][0]
        panel.reply(visitor_pt, "still there?", "agent-badge")
        checks("an unread badge on the launcher while closed",
               wait_for(lambda: f.evaluate("!document.getElementById('badge').hidden && document.getElementById('badge').textContent") == "1", 10))
        p.screenshot(path=os.path.join(shots, "widget-badge.png"))
        ctx.close()

        # "Talk to a person" mode, and a panel that cannot be reached.
        api("PUT", chat_path, {"start": "button"})
        panel.failing = True
        ctx, p, f = visit()
        f.click("#launcher")
        f.wait_for_selector("[data-relevo=handoff]:visible")
        checks("button mode: the input waits for “Talk to a person”", f.is_disabled("[data-relevo=input]"))
        f.click("[data-relevo=handoff]")
        checks("after pressing it the visitor can write", wait_for(lambda: not f.is_disabled("[data-relevo=input]"), 10))
        checks("the visitor is told while the panel is away that no agent could be reached yet",
               wait_for(lambda: "No agent could be reached yet" in f.inner_text("#notice"), 15), f.inner_text("#panel"))
        p.screenshot(path=os.path.join(shots, "widget-unreachable.png"))
        panel.failing = False
        for event in api("GET", f"{base}/events?status=failed&limit=50")["data"]["events"]:
            api("POST", f"{base}/events/{event['id']}/redeliver")
        checks("once the panel is back and gets conversation.start, the notice goes",
               wait_for(lambda: f.is_hidden("#notice"), 30), f.inner_text("#panel"))
        ctx.close()
        api("PUT", chat_path, {"start": "first_message"})

        # The pictures in docs/ and the README: a visitor asking about an order, wide and at 320 px.
        api("PUT", chat_path, {"greeting": "Hi! How can we help you today?"})
        for name, viewport in (("webchat-desktop", {"width": 1100, "height": 720}), ("webchat-320", {"width": 320, "height": 600})):
            ctx, p, f = visit(viewport)
            f.click("#launcher")
            write(f, "Hello! Where is my order #1042?")
            wait_for(lambda: len(shown(f, "agent")) == 1, 10)
            p.screenshot(path=os.path.join(shots, f"{name}.png"))
            ctx.close()

        # The console's sandbox.
        console = context.new_page()
        console.goto(f"{relevo.base}/console")
        console.fill("#api-key", key)
        console.click("form.signin button[type=submit]")
        console.wait_for_selector("#health-title")
        console.goto(f"{relevo.base}/console#/webchat/support")
        console.wait_for_selector("#open-sandbox")
        snippet_shown = console.inner_text("#webchat-snippet")
        checks("the console shows the embed tag", snippet_shown == snippet, snippet_shown)
        console.click("#open-sandbox")
        sandbox = frame_of(console)
        try:
            sandbox.wait_for_selector("[data-relevo=input]:enabled", timeout=10000)
        except Exception:
            console.screenshot(path=os.path.join(shots, "sandbox-failed.png"), full_page=True)
            print("sandbox frame:", sandbox.url, sandbox.content()[:3000])
            raise
        console.locator("iframe.sandbox-widget").scroll_into_view_if_needed()
        sandbox.fill("[data-relevo=input]", "sandbox test")
        sandbox.press("[data-relevo=input]", "Enter")
        checks("sandbox: the events sent to the panel appear beside the widget",
               wait_for(lambda: console.evaluate("Array.from(document.querySelectorAll('#sandbox-events [data-event-type]'), e => e.dataset.eventType).join()")
                        == "conversation.start,message", 15),
               console.inner_text("#sandbox"))
        checks("sandbox: the panel's reply comes back in the widget",
               wait_for(lambda: any(t == "Echo: sandbox test" for _, _, t in shown(sandbox, "agent")), 10))
        checks("sandbox: both events delivered", wait_for(lambda: console.inner_text("#sandbox-events").count("delivered") == 2, 10),
               console.inner_text("#sandbox-events"))
        console.screenshot(path=os.path.join(shots, "sandbox.png"), full_page=True)

        # Disabled: the open window loses its stream at the room's next change, and says so.
        api("DELETE", chat_path)
        sandbox_message = [e for e in panel.of_kind("message") if e["value"]["content"].get("body") == "sandbox test"][0]
        panel.reply(sandbox_message, "one more thing", "agent-after-disable")
        checks("a web chat disabled: the open window says the chat is not available",
               wait_for(lambda: "not available" in sandbox.inner_text("#notice"), 20) and sandbox.is_disabled("[data-relevo=input]"),
               sandbox.inner_text("#panel"))
        checks("no events were forged or unverifiable", panel.forged == 0, str(panel.forged))
        browser.close()
finally:
    relevo.stop()

sys.exit(checks.finish(directory))
