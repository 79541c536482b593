"""incidents have a lifecycle people move (open, investigating, resolved, closed), who resolved
and closed them and when, and the outage they are about; the statuses the service used to set
itself (`triaged`, `investigated`) become `open` and `investigating`

Revision ID: 0023_incident_lifecycle
Revises: 0022_system_role
Create Date: 2026-12-04 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.core.db

revision: str = "0023_incident_lifecycle"
down_revision: str | None = "0022_system_role"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Triage is recorded by `triaged_at`, a finished investigation by the investigation itself.
RENAMED = {"triaged": "open", "investigated": "investigating"}


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("outage_id", sa.String(length=30), nullable=True))
        batch.add_column(
            sa.Column("resolved_at", app.core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("resolved_by", sa.String(length=64), nullable=True))
        batch.add_column(
            sa.Column("closed_at", app.core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("closed_by", sa.String(length=64), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_incidents_outage_id_outages"),
            "outages",
            ["outage_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index(batch.f("ix_incidents_outage_id"), ["outage_id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("SET LOCAL app.cross_tenant = 'on'")  # every organization's rows
    incidents = sa.table("incidents", sa.column("status", sa.String))
    for old, new in RENAMED.items():
        op.execute(incidents.update().where(incidents.c.status == old).values(status=new))


def downgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.drop_index(batch.f("ix_incidents_outage_id"))
        batch.drop_constraint(batch.f("fk_incidents_outage_id_outages"), type_="foreignkey")
        batch.drop_column("closed_by")
        batch.drop_column("closed_at")
        batch.drop_column("resolved_by")
        batch.drop_column("resolved_at")
        batch.drop_column("outage_id")
