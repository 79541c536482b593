from __future__ import annotations

from typing import Any

from app.core.schemas import OutputModel, UTCTimestamp


class AuditEntryOut(OutputModel):
    id: str
    seq: int
    occurred_at: UTCTimestamp
    actor_type: str
    actor_id: str | None
    event_type: str
    entity_type: str | None
    entity_id: str | None
    correlation_id: str | None
    data: dict[str, Any]
    prev_hash: str
    hash: str


class ChainReportOut(OutputModel):
    valid: bool
    checked: int
    head_seq: int
    first_broken_seq: int | None
    reason: str | None
    verified_at: UTCTimestamp
