"""Faults reported by machines, their comments, read-only share tokens, and each
organization's correlation rules."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.ids import new_id
from app.core.tenancy import TenantMixin


class FaultSeverity(StrEnum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"
    WARNING = "WARNING"


class FaultStatus(StrEnum):
    unresolved = "unresolved"
    resolved = "resolved"


class Fault(TenantMixin, Base):
    __tablename__ = "faults"
    __table_args__ = (
        Index("ix_faults_org_id", "organization_id", "id"),
        Index("ix_faults_org_status_id", "organization_id", "status", "id"),
        # With `id` last, a repeat lookup (newest of one resource and type) is one index probe
        # under a generic plan, instead of a walk through every unresolved fault.
        Index("ix_faults_org_resource_type", "organization_id", "resource_id", "type", "id"),
        Index("ix_faults_ttl", "ttl"),
    )
    # Every index above leads with the organization: a lone organization index would be one
    # more to maintain on each insert of an alarm storm, and never the best plan.
    organization_id: Mapped[str] = mapped_column(
        String(30), ForeignKey("organizations.id", ondelete="CASCADE")
    )

    id: Mapped[str] = mapped_column(String(30), primary_key=True, default=lambda: new_id("flt"))
    resource_id: Mapped[str] = mapped_column(String(255))
    microservice_id: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(100))
    severity: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=FaultStatus.unresolved)
    message: Mapped[str] = mapped_column(String(1000))
    cause: Mapped[str] = mapped_column(Text)
    resource_ancestry_path: Mapped[str | None] = mapped_column(String(2048))
    # `|a|b|c|`: the path with delimiters at both ends, so "has ancestor b" is one LIKE.
    ancestry: Mapped[str] = mapped_column(String(2050), default="|")
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    occurrences: Mapped[int] = mapped_column(default=1)
    resolved_at: Mapped[datetime | None]
    # Unix second of expiry: FAULT_TTL_DAYS after the last report, then after resolution.
    ttl: Mapped[int | None] = mapped_column(BigInteger)
    outage_id: Mapped[str | None] = mapped_column(
        ForeignKey("outages.id", ondelete="SET NULL"), index=True
    )
    # True when this fault opened its outage (so the outage is "auto-opened").
    opened_outage: Mapped[bool] = mapped_column(default=False)
    # Reported during this maintenance window of its site: it opened no outage.
    maintenance_window_id: Mapped[str | None] = mapped_column(String(30))
    correlation_id: Mapped[str | None] = mapped_column(String(128))


class FaultComment(TenantMixin, Base):
    __tablename__ = "fault_comments"

    id: Mapped[str] = mapped_column(String(30), primary_key=True, default=lambda: new_id("cmt"))
    fault_id: Mapped[str] = mapped_column(ForeignKey("faults.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(String(64))
    comment: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class FaultShareToken(TenantMixin, Base):
    """A read-only view of faults, for a limited time and optionally one site. Only the
    token's hash is stored."""

    __tablename__ = "fault_share_tokens"

    id: Mapped[str] = mapped_column(String(30), primary_key=True, default=lambda: new_id("fst"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    site: Mapped[str | None] = mapped_column(String(255))
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]


class FaultRules(TenantMixin, Base):
    """Correlation rules of one organization (no row: the defaults)."""

    __tablename__ = "fault_rules"
    __table_args__ = (Index("ix_fault_rules_org", "organization_id", unique=True),)

    id: Mapped[str] = mapped_column(String(30), primary_key=True, default=lambda: new_id("frl"))
    auto_open_outages: Mapped[bool] = mapped_column(default=True)
    auto_resolve_outages: Mapped[bool] = mapped_column(default=False)
