"""faults and events lose their organization-only index: every other index of both tables
leads with the organization, and an alarm storm pays for each index on every insert; the
(organization, resource, type) index of faults ends with `id`, so that the repeat lookup of
single intake (newest of one key) is one probe under a generic plan, not a walk through every
unresolved fault of the organization

Revision ID: 0013_lean_storm_indexes
Revises: 0012_payout_batches
Create Date: 2026-12-02 04:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013_lean_storm_indexes"
down_revision: str | None = "0012_payout_batches"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index(op.f("ix_events_organization_id"), table_name="events")
    op.drop_index(op.f("ix_faults_organization_id"), table_name="faults")
    op.drop_index("ix_faults_org_resource_type", table_name="faults")
    op.create_index(
        "ix_faults_org_resource_type", "faults", ["organization_id", "resource_id", "type", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_faults_org_resource_type", table_name="faults")
    op.create_index(
        "ix_faults_org_resource_type", "faults", ["organization_id", "resource_id", "type"]
    )
    op.create_index(op.f("ix_faults_organization_id"), "faults", ["organization_id"], unique=False)
    op.create_index(op.f("ix_events_organization_id"), "events", ["organization_id"], unique=False)
