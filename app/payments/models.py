"""Payments: one per SLA result with a non-zero amount to settle, and each submission attempt."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, JSONType, TimestampMixin
from app.core.ids import new_id
from app.core.tenancy import TenantMixin


class PaymentStatus(StrEnum):
    pending = "pending"
    awaiting_signature = "awaiting_signature"
    confirmed = "confirmed"
    failed = "failed"


class PaymentType(StrEnum):
    reward = "reward"  # pool -> ops team
    penalty = "penalty"  # operator -> pool


class PaymentOrigin(StrEnum):
    automatic = "automatic"  # planned when the SLA result was recorded
    manual = "manual"  # POST /payments/trigger, /payments/process-sla, /sla/execute-payment


class Payment(TenantMixin, TimestampMixin, Base):
    __tablename__ = "payments"
    __table_args__ = (
        Index("ix_payments_org_created", "organization_id", "created_at"),
        Index("ix_payments_org_status", "organization_id", "status"),
    )

    id: Mapped[str] = mapped_column(String(30), primary_key=True, default=lambda: new_id("pay"))
    outage_id: Mapped[str] = mapped_column(ForeignKey("outages.id", ondelete="CASCADE"), index=True)
    # One payment per SLA result: the database refuses a second.
    sla_result_id: Mapped[str] = mapped_column(ForeignKey("sla_results.id"), unique=True)
    # A dispute or recalculation that changes a settled outcome pays only the difference, as
    # a new payment linked to the first.
    parent_payment_id: Mapped[str | None] = mapped_column(String(30))
    # Who is paid (reward) or charged (penalty): the counterparty of the result's contract.
    counterparty_id: Mapped[str | None] = mapped_column(String(30))
    type: Mapped[str] = mapped_column(String(16))
    origin: Mapped[str] = mapped_column(String(16), default=PaymentOrigin.automatic)
    amount: Mapped[Decimal]
    asset_code: Mapped[str] = mapped_column(String(12), default="USDC")
    from_address: Mapped[str | None] = mapped_column(String(56))
    to_address: Mapped[str | None] = mapped_column(String(56))
    status: Mapped[str] = mapped_column(String(24))
    failure_code: Mapped[str | None] = mapped_column(String(48))
    # What to fix (`destination_account_missing`...), when the ledger's result codes say.
    failure_reason: Mapped[str | None] = mapped_column(String(48))
    failure_message: Mapped[str | None] = mapped_column(String(500))
    # The envelope as issued (unsigned, for a payer whose key the platform does not hold) or
    # as it will be submitted; stored before submission, with its hash and last valid moment.
    envelope_xdr: Mapped[str | None] = mapped_column(Text)
    envelope_signed: Mapped[bool] = mapped_column(default=False)
    transaction_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    # The envelope's sequence number (a payer's penalties are issued in order: signing them
    # all settles them all, whatever order they come back in).
    sequence: Mapped[int | None] = mapped_column(BigInteger)
    # Why a pending payment has not settled yet: `queued`, `ledger_unreachable`,
    # `waiting_for_earlier_payment`... (null once it has).
    pending_reason: Mapped[str | None] = mapped_column(String(40))
    valid_until: Mapped[datetime | None]
    ledger: Mapped[int | None]
    attempts: Mapped[int] = mapped_column(default=0)
    submitted_at: Mapped[datetime | None]
    confirmed_at: Mapped[datetime | None]
    correlation_id: Mapped[str | None] = mapped_column(String(128))
    # Paid by an operation of a batch transaction (PAYOUT_BATCH_SIZE > 1): the batch holds the
    # envelope; `transaction_hash` and `valid_until` are the batch's, `batch_index` the
    # operation that pays this payment.
    batch_id: Mapped[str | None] = mapped_column(
        ForeignKey("payout_batches.id", ondelete="SET NULL"), index=True
    )
    batch_index: Mapped[int | None]


class PayoutBatchStatus(StrEnum):
    open = "open"  # built, maybe sent, no verdict yet
    confirmed = "confirmed"
    failed = "failed"  # refused as a whole: members failed with their own codes or detached


class PayoutBatch(TenantMixin, TimestampMixin, Base):
    """One Stellar transaction paying up to PAYOUT_BATCH_SIZE payments of one source account,
    one payment operation each. Members, envelope and hash commit before anything is sent."""

    __tablename__ = "payout_batches"
    __table_args__ = (
        Index("ix_payout_batches_org_source_status", "organization_id", "source", "status"),
    )

    id: Mapped[str] = mapped_column(String(30), primary_key=True, default=lambda: new_id("pbt"))
    source: Mapped[str] = mapped_column(String(56))
    status: Mapped[str] = mapped_column(String(16), default=PayoutBatchStatus.open)
    size: Mapped[int]
    envelope_xdr: Mapped[str] = mapped_column(Text)
    transaction_hash: Mapped[str] = mapped_column(String(64), index=True)
    valid_until: Mapped[datetime]
    # Sends of the current envelope, and whether one of them got no answer (it may have
    # landed unheard: only a lookup by hash or its expiry can tell).
    sends: Mapped[int] = mapped_column(default=0)
    unanswered: Mapped[bool] = mapped_column(default=False)
    rebuilds: Mapped[int] = mapped_column(default=0)
    ledger: Mapped[int | None]
    result_codes: Mapped[list[str] | None]


class PaymentAttempt(TenantMixin, Base):
    __tablename__ = "payment_attempts"

    id: Mapped[str] = mapped_column(String(30), primary_key=True, default=lambda: new_id("att"))
    payment_id: Mapped[str] = mapped_column(
        ForeignKey("payments.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int]
    transaction_hash: Mapped[str | None] = mapped_column(String(64))
    # issued, submitted, confirmed, failed, unknown (no verdict), found (looked up by hash)
    outcome: Mapped[str] = mapped_column(String(16))
    result_codes: Mapped[list[str]]
    error_code: Mapped[str | None] = mapped_column(String(48))
    created_at: Mapped[datetime]


class ReconciliationRun(TenantMixin, Base):
    """One comparison of an organization's payments with the ledger, and what it found."""

    __tablename__ = "reconciliation_runs"
    __table_args__ = (Index("ix_reconciliation_runs_org_id", "organization_id", "id"),)

    id: Mapped[str] = mapped_column(String(30), primary_key=True, default=lambda: new_id("rcn"))
    trigger: Mapped[str] = mapped_column(String(16))  # api | sweep | cli
    requested_by: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="running")  # running | done
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    checked: Mapped[int] = mapped_column(default=0)
    mismatch_count: Mapped[int] = mapped_column(default=0)
    # [{payment_id, kind, transaction_hash, expected, on_ledger}]
    mismatches: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
