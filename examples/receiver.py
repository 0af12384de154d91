#!/usr/bin/env python3
"""A tiny panel (or channel) for trying Relevo: verifies X-Jelou-Signature over the raw body,
prints each event, answers 200.

    python3 examples/receiver.py --port 9000 --secret "$SIGNING_SECRET" --name panel
"""
import argparse
import hashlib
import hmac
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, default=9000)
parser.add_argument("--secret", required=True, help="the integration's signingSecret (or the bot's channelSigningSecret)")
parser.add_argument("--name", default="panel")
args = parser.parse_args()


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        expected = "sha256=" + hmac.new(args.secret.encode(), raw, hashlib.sha256).hexdigest()
        valid = hmac.compare_digest(expected, self.headers.get("X-Jelou-Signature", ""))
        event = json.loads(raw)
        kind = event.get("event") or event.get("event_type")
        print(f"[{args.name}] {kind} signature={'ok' if valid else 'BAD'} {raw.decode()}", flush=True)
        self.send_response(200 if valid else 401)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"received":true}')

    def log_message(self, *_):
        pass


ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()
