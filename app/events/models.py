"""Domain events: one row per state change, written in the changing transaction.

The webhook feature delivers them; analytics and the audit trail may read them. Rows are never
changed after insert.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.ids import new_id
from app.core.tenancy import TenantMixin
from app.db import Base


class DomainEvent(TenantMixin, Base):
    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_org_type", "organization_id", "event_type"),
        Index("ix_events_entity", "entity_id"),
    )
    # Every index above leads with the organization: a lone organization index would be one
    # more to maintain on each insert of an alarm storm, and never the best plan.
    organization_id: Mapped[str] = mapped_column(
        String(30), ForeignKey("organizations.id", ondelete="CASCADE")
    )

    id: Mapped[str] = mapped_column(String(30), primary_key=True, default=lambda: new_id("evt"))
    event_type: Mapped[str] = mapped_column(String(64))
    entity_type: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime]
    schema_version: Mapped[int] = mapped_column(default=1)
    correlation_id: Mapped[str | None] = mapped_column(String(128))
    data: Mapped[dict[str, Any]]
