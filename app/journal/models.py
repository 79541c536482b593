"""The journal's tables: what a change leaves behind in its own transaction.

`audit_log` (the chained trail), `events` (domain events the webhooks deliver) and
`outage_timeline` (an outage's story) are written only through `app.journal` (record), which
batches a transaction's rows into one statement. Rows are never changed after insert, but for
the audit chainer linking `seq` and hashes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.ids import new_id
from app.core.tenancy import TenantMixin


class AuditLog(TenantMixin, Base):
    """A row is written unchained (no `seq`, no hashes) with the change it records; the chainer
    links it to its organization's chain right after the commit (app/audit/chaining.py)."""

    __tablename__ = "audit_log"
    __table_args__ = (
        UniqueConstraint("organization_id", "seq"),
        Index("ix_audit_log_org_occurred", "organization_id", "occurred_at"),
        Index("ix_audit_log_correlation_id", "correlation_id"),
        Index(
            "ix_audit_log_unchained",
            "organization_id",
            "id",
            postgresql_where=text("seq IS NULL"),
            sqlite_where=text("seq IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(30), primary_key=True, default=lambda: new_id("aud"))
    seq: Mapped[int | None]
    occurred_at: Mapped[datetime]
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(64))
    entity_type: Mapped[str | None] = mapped_column(String(32))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    correlation_id: Mapped[str | None] = mapped_column(String(128))
    data: Mapped[dict[str, Any]]
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))
    # The fingerprint of the key that signed `hash` (app/audit/chain.py); never the key.
    key_id: Mapped[str | None] = mapped_column(String(16))


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


class TimelineEntry(TenantMixin, Base):
    __tablename__ = "outage_timeline"
    __table_args__ = (Index("ix_outage_timeline_outage", "outage_id", "occurred_at"),)

    id: Mapped[str] = mapped_column(String(30), primary_key=True, default=lambda: new_id("tml"))
    outage_id: Mapped[str] = mapped_column(ForeignKey("outages.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(String(500))
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(String(64))
    occurred_at: Mapped[datetime]
    data: Mapped[dict[str, Any]]
    schema_version: Mapped[int] = mapped_column(default=1)
