"""a session knows where it is used from (the browser or client, the address) and when it was
last seen (its sign-in or latest refresh), so a person can list and end their sessions

Revision ID: 0024_session_devices
Revises: 0023_incident_lifecycle
Create Date: 2026-12-04 10:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.core.db

revision: str = "0024_session_devices"
down_revision: str | None = "0023_incident_lifecycle"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("token_families") as batch:
        batch.add_column(sa.Column("user_agent", sa.String(length=256), nullable=True))
        batch.add_column(sa.Column("ip_address", sa.String(length=64), nullable=True))
        batch.add_column(
            sa.Column("last_seen_at", app.core.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("token_families") as batch:
        batch.drop_column("last_seen_at")
        batch.drop_column("ip_address")
        batch.drop_column("user_agent")
