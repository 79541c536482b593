"""Outages, their immutable timeline, and root-cause analyses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Computed, ForeignKey, Index, String, Text, false
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, JSONType, TimestampMixin
from app.core.ids import new_id
from app.core.tenancy import TenantMixin

SEARCH_DOCUMENT_SQL = (
    "to_tsvector('simple'::regconfig, (COALESCE(site_name, ''::character varying)::text "
    "|| ' '::text) || COALESCE(description, ''::text))"
)
# PostgreSQL keeps the words of site name and description as a stored generated column, so a
# search filters on a ready vector instead of parsing every row's text again. SQLite (the
# embedded default) has the column too, always empty, and searches with LIKE.
SearchVector = TSVECTOR().with_variant(Text(), "sqlite")


class OutageStatus:
    open = "open"
    investigating = "investigating"
    resolved = "resolved"
    unresolved = (open, investigating)


class Outage(TenantMixin, TimestampMixin, Base):
    __tablename__ = "outages"
    __table_args__ = (
        Index("ix_outages_org_id", "organization_id", "id"),
        Index("ix_outages_org_status_id", "organization_id", "status", "id"),
        Index("ix_outages_org_severity_id", "organization_id", "severity", "id"),
        Index("ix_outages_org_site_id", "organization_id", "site_name", "id"),
        Index("ix_outages_org_detected", "organization_id", "detected_at"),
        Index("ix_outages_org_resolved", "organization_id", "resolved_at"),
        # Full-text search: GIN over the stored vector (on SQLite a plain index of an
        # always-empty column, kept so both schemas match the model).
        Index("ix_outages_search", "search_vector", postgresql_using="gin"),
    )

    id: Mapped[str] = mapped_column(String(30), primary_key=True, default=lambda: new_id("out"))
    # No index of its own: (organization, id) serves every lookup by organization, and an
    # organization-only index tempted the planner, when statistics were stale (right after a
    # bulk load), into reading a whole organization and sorting it for one page.
    organization_id: Mapped[str] = mapped_column(
        String(30), ForeignKey("organizations.id", ondelete="CASCADE")
    )
    site_name: Mapped[str] = mapped_column(String(255))
    site_id: Mapped[str | None] = mapped_column(String(128))
    severity: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=OutageStatus.open)
    description: Mapped[str | None] = mapped_column(Text)
    # JSON list; JSONB on PostgreSQL, which the per-service aggregation unnests.
    services_affected: Mapped[list[str]]
    affected_subscribers: Mapped[int | None]
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    region: Mapped[str | None] = mapped_column(String(100))
    assigned_to: Mapped[str | None] = mapped_column(String(128))
    created_by: Mapped[str | None] = mapped_column(String(64))
    detected_at: Mapped[datetime]
    # The site as it was named at detection (its id and name): the SLA follows it, whatever
    # the outage is renamed to later (its contract, its maintenance windows).
    sla_sites: Mapped[list[str]]
    # The SLA contract in force for those sites at detection.
    contract_id: Mapped[str] = mapped_column(ForeignKey("sla_contracts.id"))
    resolved_at: Mapped[datetime | None]
    # The MTTR the outcome used, the measured clock (resolved_at - detected_at less excluded
    # time) and where the former came from (`clock`, `approved_override`, `reported`).
    mttr_minutes: Mapped[int | None]
    measured_mttr_minutes: Mapped[int | None]
    excluded_minutes: Mapped[int | None]
    mttr_source: Mapped[str | None] = mapped_column(String(24))
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    resolution_notes: Mapped[str | None] = mapped_column(Text)
    root_cause: Mapped[str | None] = mapped_column(Text)
    correlation_id: Mapped[str | None] = mapped_column(String(128))
    search_vector: Mapped[Any | None] = mapped_column(
        SearchVector, Computed(SEARCH_DOCUMENT_SQL, persisted=True), deferred=True
    )
    at_risk_notified_at: Mapped[datetime | None]
    violated_notified_at: Mapped[datetime | None]
    # The import that created it, if one did; `imported_closed` when it arrived already over:
    # its outcome is computed for reports on the times the file gave, and never paid (holds).
    import_id: Mapped[str | None] = mapped_column(String(30))
    imported_closed: Mapped[bool] = mapped_column(default=False, server_default=false())


class RootCauseAnalysis(TenantMixin, TimestampMixin, Base):
    __tablename__ = "outage_rcas"

    id: Mapped[str] = mapped_column(String(30), primary_key=True, default=lambda: new_id("rca"))
    outage_id: Mapped[str] = mapped_column(
        ForeignKey("outages.id", ondelete="CASCADE"), unique=True
    )
    root_cause: Mapped[str] = mapped_column(Text)
    contributing_factors: Mapped[list[str]]
    remediation: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(64))


class OutageImport(TenantMixin, Base):
    """One import: who sent what, and what became of each record (the import history)."""

    __tablename__ = "outage_imports"
    __table_args__ = (Index("ix_outage_imports_org_id", "organization_id", "id"),)

    id: Mapped[str] = mapped_column(String(30), primary_key=True, default=lambda: new_id("imp"))
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(16))  # json | csv_file | json_file
    filename: Mapped[str | None] = mapped_column(String(255))
    on_error: Mapped[str] = mapped_column(String(8))  # reject | skip
    received: Mapped[int]
    imported: Mapped[int]
    closed: Mapped[int]
    skipped: Mapped[int]
    error_count: Mapped[int]
    # The first errors, by record index: [{index, loc, msg, type}]
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    outage_ids: Mapped[list[str]] = mapped_column(JSONType, default=list)
