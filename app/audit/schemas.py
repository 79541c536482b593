from __future__ import annotations

from typing import Any, Literal

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
    """The anchor of the highest row, as the ledger shows it."""

    seq: int = Field(description="The chain row anchored.")
    hash: str
    network: str
    transaction_hash: str
    ledger: int | None
    anchored_at: UTCTimestamp = Field(description="When the anchor transaction closed.")
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
    anchors: int = Field(
        description="Anchors of this chain found on the Stellar ledger (not in the database)."
    )
    latest_anchor: LatestAnchorOut | None
    unchained: int = Field(
        description="Rows written but not chained yet (linked right after their commit)."
    )
    oldest_unchained_at: UTCTimestamp | None
    ledger_status: Literal["checked", "anchoring_off", "unavailable"] = Field(
        description="`checked`: anchors were read from the ledger. `anchoring_off`: the pool "
        "account does not exist on this network, so nothing is anchored and only the keyed "
        "hashes were checked. `unavailable`: the ledger did not answer (`valid` is false)."
    )
    ledger_checked_from: UTCTimestamp | None = Field(
        description="How far back the pool account's transactions were read, newest first "
        "(up to `AUDIT_VERIFY_LEDGER_MAX_TRANSACTIONS`): the chain's start once the look-back "
        "reached it, else the time it reached. Anchors older than this were not read (except "
        "the one the database records last, looked up by hash)."
    )
    ledger_reached_chain_start: bool = Field(
        description="The look-back reached the chain's first row, or the account's first "
        "transaction: every anchor of this chain on the ledger was read."
    )
    unanchored_rows: int = Field(
        description="Rows after the latest anchor: until the next anchor, removing them from "
        "the end of the chain goes unnoticed."
    )
    unanchored_since: UTCTimestamp | None = Field(
        description="When the first of them happened. Older than the anchoring interval plus "
        "`AUDIT_ANCHOR_GRACE_SECONDS`, it makes `valid` false."
    )
