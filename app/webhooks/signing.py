"""Standard Webhooks signatures. Pure.

The secret is `whsec_` + base64 of random bytes; the HMAC-SHA256 key is those bytes. The
signed content is `{webhook-id}.{webhook-timestamp}.{body}`; the header holds one `v1,<base64>`
entry per secret in force, space-separated (two during a rotation's grace period).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

PREFIX = "whsec_"


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def key_of(secret: str) -> bytes:
    if not secret.startswith(PREFIX):
        raise ValueError("a webhook secret starts with whsec_")
    try:
        key = base64.b64decode(secret[len(PREFIX) :], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("a webhook secret is whsec_ followed by base64") from exc
    if not 24 <= len(key) <= 64:
        raise ValueError("a webhook secret holds 24 to 64 random bytes")
    return key


def signature_header(message_id: str, timestamp: int, body: bytes, secrets_: list[str]) -> str:
    content = f"{message_id}.{timestamp}.".encode() + body
    return " ".join(
        "v1," + base64.b64encode(hmac.new(key_of(s), content, hashlib.sha256).digest()).decode()
        for s in secrets_
    )
