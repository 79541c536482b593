"""reconciliation runs (payments compared with the ledger, what disagreed); a payment keeps its
envelope's sequence number (a payer's penalties are issued in order) and why it is pending

Revision ID: 0018_reconciliation
Revises: 0017_contracts
Create Date: 2026-12-04 00:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import app.core.db

revision: str = "0018_reconciliation"
down_revision: str | None = "0017_contracts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RULE = (
    "(SELECT current_setting('app.cross_tenant', true)) = 'on' "
    "OR organization_id = (SELECT current_setting('app.tenant', true))"
)


def _sequences(bind: sa.Connection) -> None:
    """Outstanding envelopes keep their number: new ones are issued after them."""
    rows = bind.execute(
        sa.text(
            "SELECT id, envelope_xdr FROM payments WHERE envelope_xdr IS NOT NULL "
            "AND status IN ('awaiting_signature', 'pending')"
        )
    )
    # Imported here: the Stellar SDK is a quarter of a second of every migrating process's start,
    # and only a database with outstanding envelopes needs it.
    from stellar_sdk import Network, TransactionEnvelope

    for payment_id, xdr in list(rows):
        # The sequence is read from the XDR; the passphrase only matters to the hash.
        number = TransactionEnvelope.from_xdr(xdr, Network.TESTNET_NETWORK_PASSPHRASE)
        bind.execute(
            sa.text("UPDATE payments SET sequence = :n WHERE id = :id"),
            {"n": number.transaction.sequence, "id": payment_id},
        )


def upgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    if postgres:
        op.execute("SET LOCAL app.cross_tenant = 'on'")
    op.create_table(
        "reconciliation_runs",
        sa.Column("id", sa.String(length=30), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", app.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("checked", sa.Integer(), nullable=False),
        sa.Column("mismatch_count", sa.Integer(), nullable=False),
        sa.Column(
            "mismatches",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("organization_id", sa.String(length=30), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_reconciliation_runs_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_runs")),
    )
    op.create_index(
        "ix_reconciliation_runs_org_id", "reconciliation_runs", ["organization_id", "id"]
    )
    op.create_index(
        op.f("ix_reconciliation_runs_organization_id"), "reconciliation_runs", ["organization_id"]
    )
    op.add_column("payments", sa.Column("sequence", sa.BigInteger(), nullable=True))
    op.add_column("payments", sa.Column("pending_reason", sa.String(length=40), nullable=True))
    op.execute("UPDATE payments SET pending_reason = 'queued' WHERE status = 'pending'")
    _sequences(bind)
    if postgres:
        op.execute("ALTER TABLE reconciliation_runs ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE reconciliation_runs FORCE ROW LEVEL SECURITY")
        op.execute(
            "CREATE POLICY tenant_isolation ON reconciliation_runs "
            f"USING ({RULE}) WITH CHECK ({RULE})"
        )


def downgrade() -> None:
    op.drop_column("payments", "pending_reason")
    op.drop_column("payments", "sequence")
    op.drop_index(op.f("ix_reconciliation_runs_organization_id"), table_name="reconciliation_runs")
    op.drop_index("ix_reconciliation_runs_org_id", table_name="reconciliation_runs")
    op.drop_table("reconciliation_runs")
