"""Incidents reported by people, their investigations, and monthly usage per organization."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, TimestampMixin
from app.core.ids import new_id
from app.core.tenancy import TenantMixin


class IncidentStatus:
    """An incident's lifecycle (decided by people; `app/incidents/lifecycle.py`)."""

    open = "open"
    investigating = "investigating"
    resolved = "resolved"
    closed = "closed"


class Incident(TenantMixin, TimestampMixin, Base):
    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_org_id", "organization_id", "id"),)

    id: Mapped[str] = mapped_column(String(30), primary_key=True, default=lambda: new_id("inc"))
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(16), default="medium")
    status: Mapped[str] = mapped_column(String(16), default=IncidentStatus.open)
    source: Mapped[str] = mapped_column(String(16), default="manual")
    services: Mapped[list[str]]
    triage: Mapped[dict[str, Any] | None]
    triaged_at: Mapped[datetime | None]
    created_by: Mapped[str | None] = mapped_column(String(64))
    correlation_id: Mapped[str | None] = mapped_column(String(128))
    # The outage this incident is about, linked by a person (`PATCH /incidents/{id}`).
    outage_id: Mapped[str | None] = mapped_column(
        ForeignKey("outages.id", ondelete="SET NULL"), index=True
    )
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(64))


class Investigation(TenantMixin, Base):
    __tablename__ = "investigations"

    id: Mapped[str] = mapped_column(String(30), primary_key=True, default=lambda: new_id("inv"))
    incident_id: Mapped[str] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default="queued")
    findings: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    created_by: Mapped[str | None] = mapped_column(String(64))


class MonthlyUsage(TenantMixin, Base):
    __tablename__ = "monthly_usage"
    __table_args__ = (Index("ix_monthly_usage_org_month", "organization_id", "month", unique=True),)

    id: Mapped[str] = mapped_column(String(30), primary_key=True, default=lambda: new_id("use"))
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM, UTC
    events_used: Mapped[int] = mapped_column(default=0)
    investigations_used: Mapped[int] = mapped_column(default=0)
