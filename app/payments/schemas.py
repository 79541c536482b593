from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from app.core.pagination import Page
from app.core.schemas import BucketDate, InputModel, OutputModel, PeriodOut, UsdcOut, UTCTimestamp
from app.wallets.schemas import PUBLIC_KEY_SCHEMA, public_key


class _OptionalWallets(InputModel):
    operator_wallet: str | None = Field(
        default=None, max_length=128, json_schema_extra=PUBLIC_KEY_SCHEMA
    )
    ops_team_wallet: str | None = Field(
        default=None, max_length=128, json_schema_extra=PUBLIC_KEY_SCHEMA
    )

    @field_validator("operator_wallet", "ops_team_wallet")
    @classmethod
    def _public(cls, value: str | None) -> str | None:
        return None if value is None else public_key(value)


class ProcessRequest(_OptionalWallets):
    outage_id: str = Field(max_length=64)


class TriggerRequest(_OptionalWallets):
    outage_id: str = Field(max_length=64)


class ExecuteRequest(_OptionalWallets):
    """One of `sla_result_id` (pay that result) or `outage_id` (pay, or retry, the outage's
    latest result: the seed's other body)."""

    sla_result_id: str | None = Field(default=None, max_length=64)
    outage_id: str | None = Field(default=None, max_length=64)

    @model_validator(mode="after")
    def _one_target(self) -> ExecuteRequest:
        if (self.sla_result_id is None) == (self.outage_id is None):
            raise ValueError("give exactly one of sla_result_id and outage_id")
        return self


class SignedRequest(InputModel):
    signed_xdr: str = Field(min_length=1, max_length=20_000)


class PaymentAttemptOut(OutputModel):
    number: int
    outcome: str
    transaction_hash: str | None
    result_codes: list[str]
    error_code: str | None
    created_at: datetime


class PaymentOut(OutputModel):
    id: str
    outage_id: str
    sla_result_id: str
    parent_payment_id: str | None
    counterparty_id: str | None = Field(
        default=None, description="Who is paid (reward) or charged (penalty)."
    )
    type: Literal["reward", "penalty"]
    origin: str
    amount: UsdcOut
    asset_code: str
    from_address: str | None
    to_address: str | None
    status: Literal["pending", "awaiting_signature", "confirmed", "failed"]
    pending_reason: (
        Literal["queued", "ledger_unreachable", "confirming", "waiting_for_earlier_payment"] | None
    ) = Field(
        default=None,
        description="Why a pending payment has not settled: `queued` (its job has not run "
        "yet), `ledger_unreachable` (no answer from the ledger: retried with backoff, see "
        "`next_attempt_at`), `confirming` (sent without an answer: looked up by hash), "
        "`waiting_for_earlier_payment` (the payer's envelope before it has to land first).",
    )
    failure_code: str | None
    failure_reason: str | None = Field(
        default=None,
        description="What to fix, when the ledger says: `destination_account_missing`, "
        "`destination_trustline_missing`, `source_account_missing`, `source_usdc_insufficient`...",
    )
    failure_message: str | None
    transaction_hash: str | None
    ledger: int | None
    attempts: int
    unsigned_xdr: str | None = Field(
        default=None, description="While awaiting_signature: the envelope the payer signs"
    )
    valid_until: datetime | None
    explorer_url: str | None
    created_at: datetime
    submitted_at: datetime | None
    confirmed_at: datetime | None


class PaymentDetail(PaymentOut):
    attempt_log: list[PaymentAttemptOut]
    next_attempt_at: datetime | None = Field(
        default=None,
        description="While pending: when its job runs next (retry sooner with "
        "`POST /payments/{id}/retry`).",
    )
    last_error: str | None = Field(default=None, description="Its job's last error, if any.")


class MismatchOut(OutputModel):
    payment_id: str
    kind: Literal[
        "missing_on_ledger",
        "failed_on_ledger",
        "not_confirmed_here",
        "amount_differs",
        "destination_differs",
        "source_differs",
        "asset_differs",
    ]
    transaction_hash: str | None
    expected: str | None = Field(description="What the payment says.")
    on_ledger: str | None = Field(description="What the ledger says.")


class ReconciliationOut(OutputModel):
    id: str
    trigger: Literal["api", "sweep", "cli"]
    requested_by: str | None
    status: Literal["running", "done"]
    started_at: UTCTimestamp
    finished_at: UTCTimestamp | None
    checked: int = Field(description="Payments with a transaction, compared with the ledger.")
    mismatch_count: int
    mismatches: list[MismatchOut]


class PaymentReconciliationOut(OutputModel):
    payment: PaymentOut
    matches: bool = Field(description="True when the ledger agrees with the payment.")
    mismatches: list[MismatchOut]


class PaymentSummary(OutputModel):
    total_penalties: UsdcOut
    total_rewards: UsdcOut
    net_amount: UsdcOut


class PaymentPage(Page[PaymentOut]):
    summary: PaymentSummary


class PaymentHistoryOut(PaymentPage):
    transactions: list[PaymentOut] = Field(description="The seed's name for `results`.")


class PaymentTotalsOut(PaymentSummary):
    transaction_count: int
    average_transaction_amount: UsdcOut = Field(
        description="(Penalties + rewards) / count, to 7 decimals; 0 when none."
    )


class PaymentTrendOut(OutputModel):
    date: BucketDate
    penalties: UsdcOut
    rewards: UsdcOut
    net: UsdcOut = Field(description="Rewards minus penalties.")
    count: int


class PaymentAnalyticsOut(OutputModel):
    """Confirmed payments only, by the moment they were confirmed."""

    period: PeriodOut
    group_by: Literal["day", "week", "month"]
    summary: PaymentTotalsOut
    trends: list[PaymentTrendOut]


class SlaOutcomeOut(OutputModel):
    id: str
    status: str
    mttr_minutes: int
    threshold_minutes: int
    amount: UsdcOut
    payment_type: str
    policy_version: int


class ProcessOut(OutputModel):
    outage_id: str
    sla_result: SlaOutcomeOut
    payment: PaymentOut | None


def payment_fields(payment: Any, explorer_url: str | None) -> dict[str, Any]:
    return {
        **{
            name: getattr(payment, name)
            for name in PaymentOut.model_fields
            if hasattr(payment, name)
        },
        "unsigned_xdr": payment.envelope_xdr if payment.status == "awaiting_signature" else None,
        "explorer_url": explorer_url,
    }
