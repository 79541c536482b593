from __future__ import annotations

from typing import Any

from pydantic import Field

from app.core.schemas import OutputModel, UTCTimestamp


class AuditEntryOut(OutputModel):
    id: str
    seq: int | None = Field(description="Null for the moment between its commit and its chaining.")
    occurred_at: UTCTimestamp
    actor_type: str
    actor_id: str | None
    event_type: str
    entity_type: str | None
    entity_id: str | None
    correlation_id: str | None
    data: dict[str, Any]
    prev_hash: str | None
    hash: str | None


class LatestAnchorOut(OutputModel):
    seq: int = Field(description="The chain row anchored.")
    hash: str
    network: str
    transaction_hash: str
    ledger: int | None
    anchored_at: UTCTimestamp
    explorer_url: str | None = Field(description="The transaction on a public explorer.")
    confirmed_on_ledger: bool | None = Field(
        description="Found on the ledger with this hash as its memo; null when the ledger did "
        "not answer."
    )


class ChainReportOut(OutputModel):
    valid: bool
    checked: int
    head_seq: int
    first_broken_seq: int | None
    reason: str | None
    verified_at: UTCTimestamp
    anchors: int = Field(description="Anchors of this chain on the Stellar ledger.")
    latest_anchor: LatestAnchorOut | None
    unchained: int = Field(
        description="Rows written but not chained yet (linked right after their commit)."
    )
    oldest_unchained_at: UTCTimestamp | None
