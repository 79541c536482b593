"""SLA policies (immutable versions) and SLA results (one `is_latest` per outage)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.ids import new_id
from app.core.tenancy import TenantMixin


class SlaResult(TenantMixin, Base):
    __tablename__ = "sla_results"
    __table_args__ = (
        # The database, not the code, guarantees one latest result per outage.
        Index(
            "ix_sla_results_latest",
            "outage_id",
            unique=True,
            postgresql_where=text("is_latest"),
            sqlite_where=text("is_latest"),
        ),
        Index("ix_sla_results_org_computed", "organization_id", "computed_at"),
    )

    id: Mapped[str] = mapped_column(String(30), primary_key=True, default=lambda: new_id("sla"))
    outage_id: Mapped[str] = mapped_column(ForeignKey("outages.id", ondelete="CASCADE"), index=True)
    policy_id: Mapped[str] = mapped_column(ForeignKey("sla_policies.id"))
    policy_version: Mapped[int]
    # The contract the outage was settled under, and its counterparty (who is paid/charged).
    contract_id: Mapped[str] = mapped_column(String(30))
    counterparty_id: Mapped[str] = mapped_column(String(30))
    severity: Mapped[str] = mapped_column(String(16))
    mttr_minutes: Mapped[int]
    # Which MTTR the outcome used: `clock` (measured), `approved_override` (a second person
    # approved a claim), `reported` (typed by the resolver, before the clock was measured).
    mttr_source: Mapped[str] = mapped_column(String(24), default="clock")
    measured_mttr_minutes: Mapped[int | None]
    excluded_minutes: Mapped[int] = mapped_column(default=0)
    override_id: Mapped[str | None] = mapped_column(String(30))
    threshold_minutes: Mapped[int]
    status: Mapped[str] = mapped_column(String(16))
    rating: Mapped[str] = mapped_column(String(16))
    multiplier: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    payment_type: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal]
    is_latest: Mapped[bool] = mapped_column(default=True)
    trigger: Mapped[str] = mapped_column(String(16))
    supersedes_id: Mapped[str | None] = mapped_column(String(30))
    computed_at: Mapped[datetime]
    correlation_id: Mapped[str | None] = mapped_column(String(128))
    # The Soroban contract's record of this outcome, when a contract is configured:
    # pending, matched, mismatch or failed.
    contract_status: Mapped[str | None] = mapped_column(String(16))
    contract_tx_hash: Mapped[str | None] = mapped_column(String(64))
    contract_amount: Mapped[Decimal | None]
    contract_outcome: Mapped[str | None] = mapped_column(String(16))  # the contract's status
