"""a fault's ttl is its expiry from the first report (unresolved faults get one: their last
report plus FAULT_TTL_DAYS); an SLA result keeps the outcome the Soroban
contract computed, beside its amount, for `contract_invocation`; a failed payment says what
to fix (`failure_reason`: a missing destination account, a missing trustline...)

Revision ID: 0014_seed_surfaces
Revises: 0013_lean_storm_indexes
Create Date: 2026-12-02 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.config import get_settings

revision: str = "0014_seed_surfaces"
down_revision: str | None = "0013_lean_storm_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    ttl_seconds = get_settings().fault_ttl_days * 86400  # this deployment's FAULT_TTL_DAYS
    op.add_column("sla_results", sa.Column("contract_outcome", sa.String(length=16)))
    op.add_column("payments", sa.Column("failure_reason", sa.String(length=48)))
    if op.get_bind().dialect.name == "postgresql":
        # Row-level security binds the tables' owner too: this update is for every tenant.
        op.execute("SET LOCAL app.cross_tenant = 'on'")
        last_seen = "CAST(EXTRACT(EPOCH FROM last_seen_at) AS BIGINT)"
    else:
        last_seen = "CAST(strftime('%s', last_seen_at) AS INTEGER)"
    # Built from a constant of this file and an integer setting only.
    op.execute(f"UPDATE faults SET ttl = {last_seen} + {ttl_seconds} WHERE ttl IS NULL")  # noqa: S608


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("SET LOCAL app.cross_tenant = 'on'")
    op.execute("UPDATE faults SET ttl = NULL WHERE status = 'unresolved'")
    op.drop_column("payments", "failure_reason")
    op.drop_column("sla_results", "contract_outcome")
