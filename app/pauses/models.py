"""Clock pauses: spans of an open outage's time that do not count towards its MTTR (waiting
for site access, a customer's go-ahead), each with its reason, who and when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.ids import new_id
from app.core.tenancy import TenantMixin


class PauseStatus:
    active = "active"  # the clock is stopped now (counted provisionally)
    counted = "counted"  # ended, short enough to count as recorded
    pending = "pending"  # ended, waiting for a second person's approval
    approved = "approved"
    rejected = "rejected"
    excluded = (counted, approved)  # taken off the MTTR


class ClockPause(TenantMixin, Base):
    __tablename__ = "clock_pauses"
    __table_args__ = (
        # One running pause per outage: the database says so.
        Index(
            "ix_clock_pauses_active_outage",
            "outage_id",
            unique=True,
            postgresql_where=text("status = 'active'"),
            sqlite_where=text("status = 'active'"),
        ),
        Index("ix_clock_pauses_outage", "outage_id", "started_at"),
        Index("ix_clock_pauses_org_status_id", "organization_id", "status", "id"),
    )

    id: Mapped[str] = mapped_column(String(30), primary_key=True, default=lambda: new_id("pse"))
    outage_id: Mapped[str] = mapped_column(ForeignKey("outages.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default=PauseStatus.active)
    started_by: Mapped[str | None] = mapped_column(String(64))
    ended_by: Mapped[str | None] = mapped_column(String(64))
    recorded_at: Mapped[datetime]  # when the service learnt of the pause
    # Why it needs approval: `long` (over CLOCK_PAUSE_APPROVAL_MINUTES), `backdated`.
    approval_reason: Mapped[str | None] = mapped_column(String(16))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None]
    notes: Mapped[str | None] = mapped_column(Text)
