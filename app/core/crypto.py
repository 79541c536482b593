"""Encryption at rest for secrets the platform must read back (webhook signing secrets,
stored idempotent responses): Fernet with keys derived from SECRET_KEY per purpose.

Key rotation: set the new SECRET_KEY and list the old one in PREVIOUS_SECRET_KEYS. New data
is encrypted with the new key; data encrypted with a previous key still decrypts.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, MultiFernet

from app.config import Settings


def _key(secret_key: str, purpose: str) -> Fernet:
    digest = hashlib.sha256(f"{purpose}:{secret_key}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


@lru_cache(maxsize=64)
def _fernet(keys: tuple[str, ...], purpose: str) -> MultiFernet:
    return MultiFernet([_key(k, purpose) for k in keys])


def fernet(settings: Settings, purpose: str) -> MultiFernet:
    return _fernet((settings.secret_key, *settings.previous_secret_keys), purpose)
