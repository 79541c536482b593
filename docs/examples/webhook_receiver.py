"""A minimal ApexChainX webhook receiver (standard library only), verifying the Standard
Webhooks signature before trusting the payload.

    WEBHOOK_SECRET=whsec_... python webhook_receiver.py     # listens on :8099

docs/guides/webhooks.md explains each step; tests/test_docs_examples.py runs this code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

TOLERANCE_SECONDS = 5 * 60
seen: set[str] = set()  # use a database in production: webhook-id repeats on retries


def verify(secret: str, headers: dict[str, str], body: bytes, now: float | None = None) -> dict:
    """The payload, if the signature is one of ours and fresh; ValueError otherwise."""
    message_id = headers["webhook-id"]
    timestamp = int(headers["webhook-timestamp"])
    if abs((now or time.time()) - timestamp) > TOLERANCE_SECONDS:
        raise ValueError("timestamp too old or too new (replay?)")
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    # During a secret rotation the header carries two signatures: any one may match.
    for entry in headers["webhook-signature"].split():
        version, _, signature = entry.partition(",")
        if version == "v1" and hmac.compare_digest(signature, expected):
            return json.loads(body)
    raise ValueError("no valid signature")


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            event = verify(os.environ["WEBHOOK_SECRET"], headers, body)
        except (KeyError, ValueError):
            self.send_response(401)
            self.end_headers()
            return
        if headers["webhook-id"] not in seen:  # at least once: deduplicate
            seen.add(headers["webhook-id"])
            print(event["event"], json.dumps(event["data"]))
        self.send_response(204)  # any 2xx; answer fast, work later
        self.end_headers()


if __name__ == "__main__":
    HTTPServer(("0.0.0.0", 8099), Receiver).serve_forever()  # noqa: S104 (a receiver is public)
