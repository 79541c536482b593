"""Maintenance windows: time booked ahead on some sites (or all), during which faults open no
outage and outage time does not count towards MTTR."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, NullableJSONType, TimestampMixin
from app.core.ids import new_id
from app.core.tenancy import TenantMixin


class MaintenanceWindow(TenantMixin, TimestampMixin, Base):
    __tablename__ = "maintenance_windows"
    __table_args__ = (
        # Every read is "the organization's windows that end after a moment".
        Index("ix_maintenance_windows_org_ends", "organization_id", "ends_at"),
    )

    id: Mapped[str] = mapped_column(String(30), primary_key=True, default=lambda: new_id("mnt"))
    name: Mapped[str] = mapped_column(String(255))
    # Site names or ids (as outages and faults name them); null: every site.
    sites: Mapped[list[str] | None] = mapped_column(NullableJSONType)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(64))
    cancelled_at: Mapped[datetime | None]
    cancelled_by: Mapped[str | None] = mapped_column(String(64))

    def covers(self, sites: list[str]) -> bool:
        """Whether the window applies to something on any of these sites (names or keys)."""
        return self.sites is None or not set(self.sites).isdisjoint(sites)

    def status_at(self, now: datetime) -> str:
        if self.cancelled_at is not None:
            return "cancelled"
        if now < self.starts_at:
            return "scheduled"
        return "active" if now < self.ends_at else "ended"
