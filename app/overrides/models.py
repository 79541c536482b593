"""MTTR override requests: a claimed MTTR that differs from the measured clock, waiting for a
second person's decision."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.ids import new_id
from app.core.tenancy import TenantMixin


class OverrideStatus:
    pending = "pending"
    approved = "approved"
    rejected = "rejected"


class OverrideSource:
    resolve = "resolve"  # claimed by the resolver (mttr_minutes, or a backdated resolved_at)
    dispute = "dispute"  # a dispute accepted with a corrected MTTR


class MttrOverride(TenantMixin, Base):
    __tablename__ = "mttr_overrides"
    __table_args__ = (
        # One request waits per outage at a time; the database, not the code, says so.
        Index(
            "ix_mttr_overrides_pending_outage",
            "outage_id",
            unique=True,
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
        Index("ix_mttr_overrides_org_status_id", "organization_id", "status", "id"),
        Index("ix_mttr_overrides_outage", "outage_id", "id"),
    )

    id: Mapped[str] = mapped_column(String(30), primary_key=True, default=lambda: new_id("ovr"))
    outage_id: Mapped[str] = mapped_column(ForeignKey("outages.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(16))
    dispute_id: Mapped[str | None] = mapped_column(String(30))
    claimed_mttr_minutes: Mapped[int]
    measured_mttr_minutes: Mapped[int]
    claimed_resolved_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=OverrideStatus.pending)
    requested_by: Mapped[str | None] = mapped_column(String(64))
    requested_at: Mapped[datetime]
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None]
    notes: Mapped[str | None] = mapped_column(Text)
    # The SLA result the approval produced (approved requests only).
    sla_result_id: Mapped[str | None] = mapped_column(String(30))
