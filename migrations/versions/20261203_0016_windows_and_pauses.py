"""maintenance windows (faults in one open no outage; their time is off the MTTR) and clock
pauses of open outages (counted, or approved by a second person); a fault remembers the
window that suppressed it

Revision ID: 0016_windows_and_pauses
Revises: 0015_measured_clock
Create Date: 2026-12-03 23:20:30.839272
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import app.core.db

revision: str = "0016_windows_and_pauses"
down_revision: str | None = "0015_measured_clock"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RULE = (
    "(SELECT current_setting('app.cross_tenant', true)) = 'on' "
    "OR organization_id = (SELECT current_setting('app.tenant', true))"
)


def upgrade() -> None:
    op.create_table(
        "maintenance_windows",
        sa.Column("id", sa.String(length=30), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column(
            "sites",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("starts_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("cancelled_at", app.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_by", sa.String(length=64), nullable=True),
        sa.Column("organization_id", sa.String(length=30), nullable=False),
        sa.Column("created_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_maintenance_windows_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maintenance_windows")),
    )
    op.create_index(
        "ix_maintenance_windows_org_ends",
        "maintenance_windows",
        ["organization_id", "ends_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_maintenance_windows_organization_id"),
        "maintenance_windows",
        ["organization_id"],
        unique=False,
    )
    op.create_table(
        "clock_pauses",
        sa.Column("id", sa.String(length=30), nullable=False),
        sa.Column("outage_id", sa.String(length=30), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("started_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", app.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_by", sa.String(length=64), nullable=True),
        sa.Column("ended_by", sa.String(length=64), nullable=True),
        sa.Column("recorded_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("approval_reason", sa.String(length=16), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", app.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("organization_id", sa.String(length=30), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_clock_pauses_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["outage_id"],
            ["outages.id"],
            name=op.f("fk_clock_pauses_outage_id_outages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clock_pauses")),
    )
    op.create_index(
        "ix_clock_pauses_active_outage",
        "clock_pauses",
        ["outage_id"],
        unique=True,
        postgresql_where=sa.text("status = 'active'"),
        sqlite_where=sa.text("status = 'active'"),
    )
    op.create_index(
        "ix_clock_pauses_org_status_id",
        "clock_pauses",
        ["organization_id", "status", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_clock_pauses_organization_id"), "clock_pauses", ["organization_id"], unique=False
    )
    op.create_index(
        "ix_clock_pauses_outage", "clock_pauses", ["outage_id", "started_at"], unique=False
    )
    op.add_column("faults", sa.Column("maintenance_window_id", sa.String(length=30), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        for table in ("maintenance_windows", "clock_pauses"):
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
            op.execute(
                f"CREATE POLICY tenant_isolation ON {table} USING ({RULE}) WITH CHECK ({RULE})"
            )


def downgrade() -> None:
    op.drop_column("faults", "maintenance_window_id")
    op.drop_index("ix_clock_pauses_outage", table_name="clock_pauses")
    op.drop_index(op.f("ix_clock_pauses_organization_id"), table_name="clock_pauses")
    op.drop_index("ix_clock_pauses_org_status_id", table_name="clock_pauses")
    op.drop_index(
        "ix_clock_pauses_active_outage",
        table_name="clock_pauses",
        postgresql_where=sa.text("status = 'active'"),
        sqlite_where=sa.text("status = 'active'"),
    )
    op.drop_table("clock_pauses")
    op.drop_index(op.f("ix_maintenance_windows_organization_id"), table_name="maintenance_windows")
    op.drop_index("ix_maintenance_windows_org_ends", table_name="maintenance_windows")
    op.drop_table("maintenance_windows")
