"""payout batches: rewards of one source account paid by one transaction of up to
PAYOUT_BATCH_SIZE payment operations; the batch holds the envelope, members point at it

Revision ID: 0012_payout_batches
Revises: 0011_outage_search
Create Date: 2026-12-02 03:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import app.core.db

revision: str = "0012_payout_batches"
down_revision: str | None = "0011_outage_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RULE = (
    "(SELECT current_setting('app.cross_tenant', true)) = 'on' "
    "OR organization_id = (SELECT current_setting('app.tenant', true))"
)


def upgrade() -> None:
    op.create_table(
        "payout_batches",
        sa.Column("id", sa.String(length=30), nullable=False),
        sa.Column("source", sa.String(length=56), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("envelope_xdr", sa.Text(), nullable=False),
        sa.Column("transaction_hash", sa.String(length=64), nullable=False),
        sa.Column("valid_until", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sends", sa.Integer(), nullable=False),
        sa.Column("unanswered", sa.Boolean(), nullable=False),
        sa.Column("rebuilds", sa.Integer(), nullable=False),
        sa.Column("ledger", sa.Integer(), nullable=True),
        sa.Column(
            "result_codes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("organization_id", sa.String(length=30), nullable=False),
        sa.Column("created_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_payout_batches_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payout_batches")),
    )
    op.create_index(
        "ix_payout_batches_org_source_status",
        "payout_batches",
        ["organization_id", "source", "status"],
        unique=False,
    )
    op.create_index(
        op.f("ix_payout_batches_organization_id"),
        "payout_batches",
        ["organization_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_payout_batches_transaction_hash"),
        "payout_batches",
        ["transaction_hash"],
        unique=False,
    )
    with op.batch_alter_table("payments") as batch:
        batch.add_column(sa.Column("batch_id", sa.String(length=30), nullable=True))
        batch.add_column(sa.Column("batch_index", sa.Integer(), nullable=True))
        batch.create_index(batch.f("ix_payments_batch_id"), ["batch_id"], unique=False)
        batch.create_foreign_key(
            batch.f("fk_payments_batch_id_payout_batches"),
            "payout_batches",
            ["batch_id"],
            ["id"],
            ondelete="SET NULL",
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE payout_batches ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE payout_batches FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON payout_batches USING ({RULE}) WITH CHECK ({RULE})"
        )


def downgrade() -> None:
    with op.batch_alter_table("payments") as batch:
        batch.drop_constraint(batch.f("fk_payments_batch_id_payout_batches"), type_="foreignkey")
        batch.drop_index(batch.f("ix_payments_batch_id"))
        batch.drop_column("batch_index")
        batch.drop_column("batch_id")
    op.drop_index(op.f("ix_payout_batches_transaction_hash"), table_name="payout_batches")
    op.drop_index(op.f("ix_payout_batches_organization_id"), table_name="payout_batches")
    op.drop_index("ix_payout_batches_org_source_status", table_name="payout_batches")
    op.drop_table("payout_batches")
