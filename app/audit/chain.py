"""The hash of one audit row: pure, so the writer and the verifier cannot disagree."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import orjson

from app.core.clock import isoformat


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
    return hashlib.sha256(canonical).hexdigest()
