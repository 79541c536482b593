from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.ids import new_id
from app.core.tenancy import TenantMixin


class DisputeStatus:
    open = "open"
    resolved = "resolved"  # accepted: the outcome was recomputed
    rejected = "rejected"  # the original outcome stands


class Dispute(TenantMixin, Base):
    __tablename__ = "disputes"
    __table_args__ = (
        # One open dispute per SLA result at a time.
        Index(
            "ix_disputes_open_result",
            "sla_result_id",
            unique=True,
            postgresql_where=text("status = 'open'"),
            sqlite_where=text("status = 'open'"),
        ),
        Index("ix_disputes_org_status", "organization_id", "status", "id"),
    )

    id: Mapped[str] = mapped_column(String(30), primary_key=True, default=lambda: new_id("dsp"))
    outage_id: Mapped[str] = mapped_column(ForeignKey("outages.id", ondelete="CASCADE"))
    sla_result_id: Mapped[str] = mapped_column(ForeignKey("sla_results.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(Text)
    # The MTTR the filer claims (`claimed_mttr_minutes` in the API).
    proposed_mttr_minutes: Mapped[int | None]
    status: Mapped[str] = mapped_column(String(16), default=DisputeStatus.open)
    resolution: Mapped[str | None] = mapped_column(String(16))
    notes: Mapped[str | None] = mapped_column(Text)
    filed_by: Mapped[str | None] = mapped_column(String(64))
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    new_sla_result_id: Mapped[str | None] = mapped_column(String(30))
    payment_difference: Mapped[Decimal | None]
