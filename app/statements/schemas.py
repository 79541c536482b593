from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.core.schemas import OutputModel, UTCTimestamp


class StatementDocument(BaseModel):
    """The statement as JSON: the canonical bytes whose SHA-256 is anchored."""

    model_config = ConfigDict(extra="allow")

    schema_version: int
    status: Literal["open", "closed"]
    generated_at: str = Field(json_schema_extra={"format": "date-time"})
    period: dict[str, str]
    organization: dict[str, Any]
    counterparty: dict[str, Any]
    contracts: list[dict[str, Any]]
    currency: dict[str, Any]
    outages: list[dict[str, Any]] = Field(
        description="Each outage settled in the period under the counterparty's contracts: "
        "clock, exclusions, the MTTR used and why, the approved override, the outcome."
    )
    adjustments: list[dict[str, Any]] = Field(
        description="Corrections made in the period to outages of earlier periods."
    )
    payments: list[dict[str, Any]] = Field(
        description="The payments confirmed on the ledger from the previous close to this "
        "one, with their hashes (each payment is in one statement only)."
    )
    totals: dict[str, Any] = Field(
        description="penalties, rewards, adjustments, net (+ is owed to the counterparty) for "
        "the period's outcomes; paid: what moved in the period; decimal strings."
    )


class StatementOut(OutputModel):
    id: str
    counterparty_id: str
    period: str
    starts_at: UTCTimestamp
    ends_at: UTCTimestamp
    sha256: str
    closed_at: UTCTimestamp
    anchor_tx_hash: str | None
    anchored_at: UTCTimestamp | None


class StatementVerification(BaseModel):
    statement_id: str
    period: str
    sha256: str
    document_matches: bool = Field(description="The stored document still hashes to sha256.")
    anchor_transaction_hash: str | None
    anchor_ledger: int | None
    anchored_on_ledger: bool | None = Field(
        description="The ledger holds the anchor, with sha256 as its memo (null: not anchored "
        "yet, or the ledger did not answer)."
    )
    explorer_url: str | None
    valid: bool
