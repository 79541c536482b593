"""The hash of one audit row, and the keys that make the chain tamper-evident.

A row's hash is HMAC-SHA256, keyed with a key derived from SECRET_KEY that never reaches the
database, over the row's content and the previous row's hash: someone who can rewrite the
table (a database superuser) cannot recompute a valid chain without the key. Rotating
SECRET_KEY starts signing with the new key; rows signed with a key in PREVIOUS_SECRET_KEYS
still verify. Each row names its key by a short fingerprint (`key_id`).

Pure: the writer and the verifier cannot disagree.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from functools import lru_cache
from typing import Any

import orjson

from app.config import Settings
from app.core.clock import isoformat


def _derive(secret_key: str) -> bytes:
    return hashlib.sha256(b"apexchainx audit chain\x00" + secret_key.encode()).digest()


def key_id_of(key: bytes) -> str:
    return hashlib.sha256(b"key id\x00" + key).hexdigest()[:16]


@lru_cache(maxsize=16)
def _keys(secrets: tuple[str, ...]) -> tuple[tuple[str, bytes], ...]:
    return tuple((key_id_of(key), key) for key in map(_derive, secrets))


def signing_key(settings: Settings) -> tuple[str, bytes]:
    """(key id, key) that signs new rows."""
    return _keys((settings.secret_key,))[0]


def verifying_keys(settings: Settings) -> dict[str, bytes]:
    """Every key a row may have been signed with: the current one and the previous ones."""
    return dict(_keys((settings.secret_key, *settings.previous_secret_keys)))


def row_hash(
    *,
    prev_hash: str,
    seq: int,
    organization_id: str,
    occurred_at: datetime,
    actor_type: str,
    actor_id: str | None,
    event_type: str,
    entity_type: str | None,
    entity_id: str | None,
    correlation_id: str | None,
    data: dict[str, Any],
    key: bytes,
) -> str:
    canonical = orjson.dumps(
        {
            "prev_hash": prev_hash,
            "seq": seq,
            "organization_id": organization_id,
            "occurred_at": isoformat(occurred_at),
            "actor_type": actor_type,
            "actor_id": actor_id,
            "event_type": event_type,
            "entity_type": entity_type,
            "entity_id": entity_id,
            "correlation_id": correlation_id,
            "data": data,
        },
        option=orjson.OPT_SORT_KEYS,
    )
    return hmac.new(key, canonical, hashlib.sha256).hexdigest()
