"""outages, timeline, rca, sla policies and results, disputes, events

Revision ID: 0002_outages_sla
Revises: 0001_platform
Create Date: 2026-11-23 08:51:21.207532
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import app.core.db

revision: str = "0002_outages_sla"
down_revision: str | None = "0001_platform"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.String(length=30), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("entity_type", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("occurred_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.Column("correlation_id", sa.String(length=128), nullable=True),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("organization_id", sa.String(length=30), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_events_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    op.create_index("ix_events_entity", "events", ["entity_id"], unique=False)
    op.create_index("ix_events_org_type", "events", ["organization_id", "event_type"], unique=False)
    op.create_index(op.f("ix_events_organization_id"), "events", ["organization_id"], unique=False)
    op.create_table(
        "outages",
        sa.Column("id", sa.String(length=30), nullable=False),
        sa.Column("site_name", sa.String(length=255), nullable=False),
        sa.Column("site_id", sa.String(length=128), nullable=True),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "services_affected",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("affected_subscribers", sa.Integer(), nullable=True),
        sa.Column("latitude", sa.Double(), nullable=True),
        sa.Column("longitude", sa.Double(), nullable=True),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column("assigned_to", sa.String(length=128), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("detected_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", app.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("mttr_minutes", sa.Integer(), nullable=True),
        sa.Column("resolution_notes", sa.Text(), nullable=True),
        sa.Column("root_cause", sa.Text(), nullable=True),
        sa.Column("correlation_id", sa.String(length=128), nullable=True),
        sa.Column("at_risk_notified_at", app.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("violated_notified_at", app.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("organization_id", sa.String(length=30), nullable=False),
        sa.Column("created_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_outages_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outages")),
    )
    op.create_index(
        "ix_outages_org_detected", "outages", ["organization_id", "detected_at"], unique=False
    )
    op.create_index("ix_outages_org_id", "outages", ["organization_id", "id"], unique=False)
    op.create_index(
        "ix_outages_org_resolved", "outages", ["organization_id", "resolved_at"], unique=False
    )
    op.create_index(
        "ix_outages_org_severity_id", "outages", ["organization_id", "severity", "id"], unique=False
    )
    op.create_index(
        "ix_outages_org_site_id", "outages", ["organization_id", "site_name", "id"], unique=False
    )
    op.create_index(
        "ix_outages_org_status_id", "outages", ["organization_id", "status", "id"], unique=False
    )
    op.create_index(
        op.f("ix_outages_organization_id"), "outages", ["organization_id"], unique=False
    )
    _add_search_vector()
    op.create_table(
        "sla_policies",
        sa.Column("id", sa.String(length=30), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("threshold_minutes", sa.Integer(), nullable=False),
        sa.Column("penalty_per_minute", app.core.db.Money(), nullable=False),
        sa.Column("reward_base", app.core.db.Money(), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("created_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("organization_id", sa.String(length=30), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_sla_policies_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_policies")),
    )
    op.create_index(
        "ix_sla_policies_current",
        "sla_policies",
        ["organization_id", "severity"],
        unique=True,
        postgresql_where=sa.text("is_current"),
        sqlite_where=sa.text("is_current"),
    )
    op.create_index(
        "ix_sla_policies_org_version",
        "sla_policies",
        ["organization_id", "version", "severity"],
        unique=True,
    )
    op.create_index(
        op.f("ix_sla_policies_organization_id"), "sla_policies", ["organization_id"], unique=False
    )
    op.create_table(
        "outage_rcas",
        sa.Column("id", sa.String(length=30), nullable=False),
        sa.Column("outage_id", sa.String(length=30), nullable=False),
        sa.Column("root_cause", sa.Text(), nullable=False),
        sa.Column(
            "contributing_factors",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("remediation", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("organization_id", sa.String(length=30), nullable=False),
        sa.Column("created_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_outage_rcas_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["outage_id"],
            ["outages.id"],
            name=op.f("fk_outage_rcas_outage_id_outages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outage_rcas")),
        sa.UniqueConstraint("outage_id", name=op.f("uq_outage_rcas_outage_id")),
    )
    op.create_index(
        op.f("ix_outage_rcas_organization_id"), "outage_rcas", ["organization_id"], unique=False
    )
    op.create_table(
        "outage_timeline",
        sa.Column("id", sa.String(length=30), nullable=False),
        sa.Column("outage_id", sa.String(length=30), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=False),
        sa.Column("actor_type", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=True),
        sa.Column("occurred_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.String(length=30), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_outage_timeline_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["outage_id"],
            ["outages.id"],
            name=op.f("fk_outage_timeline_outage_id_outages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outage_timeline")),
    )
    op.create_index(
        op.f("ix_outage_timeline_organization_id"),
        "outage_timeline",
        ["organization_id"],
        unique=False,
    )
    op.create_index(
        "ix_outage_timeline_outage", "outage_timeline", ["outage_id", "occurred_at"], unique=False
    )
    op.create_table(
        "sla_results",
        sa.Column("id", sa.String(length=30), nullable=False),
        sa.Column("outage_id", sa.String(length=30), nullable=False),
        sa.Column("policy_id", sa.String(length=30), nullable=False),
        sa.Column("policy_version", sa.Integer(), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("mttr_minutes", sa.Integer(), nullable=False),
        sa.Column("threshold_minutes", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("rating", sa.String(length=16), nullable=False),
        sa.Column("multiplier", sa.Numeric(precision=6, scale=2), nullable=False),
        sa.Column("payment_type", sa.String(length=16), nullable=False),
        sa.Column("amount", app.core.db.Money(), nullable=False),
        sa.Column("is_latest", sa.Boolean(), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("supersedes_id", sa.String(length=30), nullable=True),
        sa.Column("computed_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("correlation_id", sa.String(length=128), nullable=True),
        sa.Column("organization_id", sa.String(length=30), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_sla_results_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["outage_id"],
            ["outages.id"],
            name=op.f("fk_sla_results_outage_id_outages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"], ["sla_policies.id"], name=op.f("fk_sla_results_policy_id_sla_policies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_results")),
    )
    op.create_index(
        "ix_sla_results_latest",
        "sla_results",
        ["outage_id"],
        unique=True,
        postgresql_where=sa.text("is_latest"),
        sqlite_where=sa.text("is_latest"),
    )
    op.create_index(
        "ix_sla_results_org_computed",
        "sla_results",
        ["organization_id", "computed_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_sla_results_organization_id"), "sla_results", ["organization_id"], unique=False
    )
    op.create_index(op.f("ix_sla_results_outage_id"), "sla_results", ["outage_id"], unique=False)
    op.create_table(
        "disputes",
        sa.Column("id", sa.String(length=30), nullable=False),
        sa.Column("outage_id", sa.String(length=30), nullable=False),
        sa.Column("sla_result_id", sa.String(length=30), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("proposed_mttr_minutes", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("resolution", sa.String(length=16), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("filed_by", sa.String(length=64), nullable=True),
        sa.Column("resolved_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", app.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("new_sla_result_id", sa.String(length=30), nullable=True),
        sa.Column("payment_difference", app.core.db.Money(), nullable=True),
        sa.Column("organization_id", sa.String(length=30), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_disputes_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["outage_id"],
            ["outages.id"],
            name=op.f("fk_disputes_outage_id_outages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sla_result_id"],
            ["sla_results.id"],
            name=op.f("fk_disputes_sla_result_id_sla_results"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disputes")),
    )
    op.create_index(
        "ix_disputes_open_result",
        "disputes",
        ["sla_result_id"],
        unique=True,
        postgresql_where=sa.text("status = 'open'"),
        sqlite_where=sa.text("status = 'open'"),
    )
    op.create_index(
        "ix_disputes_org_status", "disputes", ["organization_id", "status", "id"], unique=False
    )
    op.create_index(
        op.f("ix_disputes_organization_id"), "disputes", ["organization_id"], unique=False
    )


SEARCH_DOCUMENT_SQL = (
    "to_tsvector('simple'::regconfig, (COALESCE(site_name, ''::character varying)::text "
    "|| ' '::text) || COALESCE(description, ''::text))"
)


def _add_search_vector() -> None:
    """PostgreSQL: a stored generated tsvector with a GIN index. SQLite: the same column as
    plain text, unused (search there is a LIKE)."""
    if op.get_bind().dialect.name == "postgresql":
        op.add_column(
            "outages",
            sa.Column(
                "search_vector",
                postgresql.TSVECTOR(),
                sa.Computed(SEARCH_DOCUMENT_SQL, persisted=True),
                nullable=True,
            ),
        )
        op.create_index(
            "ix_outages_search", "outages", ["search_vector"], unique=False, postgresql_using="gin"
        )
    else:
        op.add_column("outages", sa.Column("search_vector", sa.Text(), nullable=True))
        op.create_index("ix_outages_search", "outages", ["search_vector"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_disputes_organization_id"), table_name="disputes")
    op.drop_index("ix_disputes_org_status", table_name="disputes")
    op.drop_index(
        "ix_disputes_open_result",
        table_name="disputes",
        postgresql_where=sa.text("status = 'open'"),
        sqlite_where=sa.text("status = 'open'"),
    )
    op.drop_table("disputes")
    op.drop_index(op.f("ix_sla_results_outage_id"), table_name="sla_results")
    op.drop_index(op.f("ix_sla_results_organization_id"), table_name="sla_results")
    op.drop_index("ix_sla_results_org_computed", table_name="sla_results")
    op.drop_index(
        "ix_sla_results_latest",
        table_name="sla_results",
        postgresql_where=sa.text("is_latest"),
        sqlite_where=sa.text("is_latest"),
    )
    op.drop_table("sla_results")
    op.drop_index("ix_outage_timeline_outage", table_name="outage_timeline")
    op.drop_index(op.f("ix_outage_timeline_organization_id"), table_name="outage_timeline")
    op.drop_table("outage_timeline")
    op.drop_index(op.f("ix_outage_rcas_organization_id"), table_name="outage_rcas")
    op.drop_table("outage_rcas")
    op.drop_index(op.f("ix_sla_policies_organization_id"), table_name="sla_policies")
    op.drop_index("ix_sla_policies_org_version", table_name="sla_policies")
    op.drop_index(
        "ix_sla_policies_current",
        table_name="sla_policies",
        postgresql_where=sa.text("is_current"),
        sqlite_where=sa.text("is_current"),
    )
    op.drop_table("sla_policies")
    op.drop_index("ix_outages_search", table_name="outages")
    op.drop_index(op.f("ix_outages_organization_id"), table_name="outages")
    op.drop_index("ix_outages_org_status_id", table_name="outages")
    op.drop_index("ix_outages_org_site_id", table_name="outages")
    op.drop_index("ix_outages_org_severity_id", table_name="outages")
    op.drop_index("ix_outages_org_resolved", table_name="outages")
    op.drop_index("ix_outages_org_id", table_name="outages")
    op.drop_index("ix_outages_org_detected", table_name="outages")
    op.drop_table("outages")
    op.drop_index(op.f("ix_events_organization_id"), table_name="events")
    op.drop_index("ix_events_org_type", table_name="events")
    op.drop_index("ix_events_entity", table_name="events")
    op.drop_table("events")
