#!/usr/bin/env python3
"""Verifies Standard Webhooks headers with the off-the-shelf `standardwebhooks` package.

Reads JSON lines {"body": str, "headers": {...}, "secrets": [whsec_…]} on stdin and answers one
JSON line per request: {"ok": bool, "results": [bool per secret], "error": str|null}.
"""
import json
import sys

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

for line in sys.stdin:
    request = json.loads(line)
    results, error = [], None
    for secret in request["secrets"]:
        try:
            Webhook(secret).verify(request["body"], request["headers"])
            results.append(True)
        except WebhookVerificationError as exc:
            results.append(False)
            error = str(exc)
    print(json.dumps({"ok": bool(results) and all(results), "results": results, "error": error}), flush=True)
