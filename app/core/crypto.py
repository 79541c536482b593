"""Encryption at rest for secrets the platform must read back (webhook signing secrets,
stored idempotent responses): Fernet with a key derived from SECRET_KEY per purpose."""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet


@lru_cache
def fernet(secret_key: str, purpose: str) -> Fernet:
    digest = hashlib.sha256(f"{purpose}:{secret_key}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))
