"""the measured clock: an outage's MTTR is resolved_at - detected_at less excluded time; a
claimed MTTR is an override request (mttr_overrides) a second person decides; results and
outages say which MTTR they used. Results from before are marked `reported` (typed by the
resolver), with their measured clock beside them.

Revision ID: 0015_measured_clock
Revises: 0014_seed_surfaces
Create Date: 2026-12-03 22:41:43
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.core.db

revision: str = "0015_measured_clock"
down_revision: str | None = "0014_seed_surfaces"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RULE = (
    "(SELECT current_setting('app.cross_tenant', true)) = 'on' "
    "OR organization_id = (SELECT current_setting('app.tenant', true))"
)


def upgrade() -> None:
    op.create_table(
        "mttr_overrides",
        sa.Column("id", sa.String(length=30), nullable=False),
        sa.Column("outage_id", sa.String(length=30), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("dispute_id", sa.String(length=30), nullable=True),
        sa.Column("claimed_mttr_minutes", sa.Integer(), nullable=False),
        sa.Column("measured_mttr_minutes", sa.Integer(), nullable=False),
        sa.Column("claimed_resolved_at", app.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=True),
        sa.Column("requested_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", app.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("sla_result_id", sa.String(length=30), nullable=True),
        sa.Column("organization_id", sa.String(length=30), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_mttr_overrides_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["outage_id"],
            ["outages.id"],
            name=op.f("fk_mttr_overrides_outage_id_outages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mttr_overrides")),
    )
    op.create_index(
        "ix_mttr_overrides_org_status_id", "mttr_overrides", ["organization_id", "status", "id"]
    )
    op.create_index(
        op.f("ix_mttr_overrides_organization_id"), "mttr_overrides", ["organization_id"]
    )
    op.create_index("ix_mttr_overrides_outage", "mttr_overrides", ["outage_id", "id"])
    op.create_index(
        "ix_mttr_overrides_pending_outage",
        "mttr_overrides",
        ["outage_id"],
        unique=True,
        postgresql_where=sa.text("status = 'pending'"),
        sqlite_where=sa.text("status = 'pending'"),
    )
    op.add_column("outages", sa.Column("measured_mttr_minutes", sa.Integer(), nullable=True))
    op.add_column("outages", sa.Column("excluded_minutes", sa.Integer(), nullable=True))
    op.add_column("outages", sa.Column("mttr_source", sa.String(length=24), nullable=True))
    op.add_column("outages", sa.Column("resolved_by", sa.String(length=64), nullable=True))
    with op.batch_alter_table("sla_results") as batch:
        batch.add_column(
            sa.Column(
                "mttr_source", sa.String(length=24), nullable=False, server_default="reported"
            )
        )
        batch.add_column(sa.Column("measured_mttr_minutes", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("excluded_minutes", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("override_id", sa.String(length=30), nullable=True))
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        # Row-level security binds the tables' owner too: the backfill is for every tenant.
        op.execute("SET LOCAL app.cross_tenant = 'on'")
        minutes = "CAST(CEIL(EXTRACT(EPOCH FROM (resolved_at - detected_at)) / 60) AS INTEGER)"
    else:
        minutes = (
            "CAST(((julianday(resolved_at) - julianday(detected_at)) * 1440) + 0.999999 AS INTEGER)"
        )
    # Built from constants of this file only.
    op.execute(
        f"UPDATE outages SET mttr_source = 'reported', excluded_minutes = 0, "  # noqa: S608
        f"measured_mttr_minutes = {minutes} WHERE resolved_at IS NOT NULL"
    )
    op.execute(
        "UPDATE sla_results SET measured_mttr_minutes = (SELECT o.measured_mttr_minutes "
        "FROM outages o WHERE o.id = sla_results.outage_id)"
    )
    with op.batch_alter_table("sla_results") as batch:
        batch.alter_column("mttr_source", server_default=None)
        batch.alter_column("excluded_minutes", server_default=None)
    if postgres:
        op.execute("ALTER TABLE mttr_overrides ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE mttr_overrides FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON mttr_overrides USING ({RULE}) WITH CHECK ({RULE})"
        )


def downgrade() -> None:
    with op.batch_alter_table("sla_results") as batch:
        batch.drop_column("override_id")
        batch.drop_column("excluded_minutes")
        batch.drop_column("measured_mttr_minutes")
        batch.drop_column("mttr_source")
    op.drop_column("outages", "resolved_by")
    op.drop_column("outages", "mttr_source")
    op.drop_column("outages", "excluded_minutes")
    op.drop_column("outages", "measured_mttr_minutes")
    op.drop_index("ix_mttr_overrides_pending_outage", table_name="mttr_overrides")
    op.drop_index("ix_mttr_overrides_outage", table_name="mttr_overrides")
    op.drop_index(op.f("ix_mttr_overrides_organization_id"), table_name="mttr_overrides")
    op.drop_index("ix_mttr_overrides_org_status_id", table_name="mttr_overrides")
    op.drop_table("mttr_overrides")
