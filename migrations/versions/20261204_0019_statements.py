"""settlement statements: a counterparty's period, frozen at its close (the canonical JSON
document and its SHA-256, anchored on the ledger). On PostgreSQL a trigger keeps a frozen
statement as it was: only its anchor may be recorded, and it is never deleted.

Revision ID: 0019_statements
Revises: 0018_reconciliation
Create Date: 2026-12-04 00:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.core.db

revision: str = "0019_statements"
down_revision: str | None = "0018_reconciliation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RULE = (
    "(SELECT current_setting('app.cross_tenant', true)) = 'on' "
    "OR organization_id = (SELECT current_setting('app.tenant', true))"
)
FROZEN = """
CREATE OR REPLACE FUNCTION statements_frozen() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'a closed statement is never deleted';
    END IF;
    IF (NEW.document, NEW.sha256, NEW.period, NEW.counterparty_id, NEW.organization_id,
        NEW.starts_at, NEW.ends_at, NEW.closed_at)
       IS DISTINCT FROM
       (OLD.document, OLD.sha256, OLD.period, OLD.counterparty_id, OLD.organization_id,
        OLD.starts_at, OLD.ends_at, OLD.closed_at) THEN
        RAISE EXCEPTION 'a closed statement is never changed (only its anchor is recorded)';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    op.create_table(
        "statements",
        sa.Column("id", sa.String(length=30), nullable=False),
        sa.Column("counterparty_id", sa.String(length=30), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("starts_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("closed_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("anchor_tx_hash", sa.String(length=64), nullable=True),
        sa.Column("anchor_ledger", sa.Integer(), nullable=True),
        sa.Column("anchored_at", app.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("organization_id", sa.String(length=30), nullable=False),
        sa.ForeignKeyConstraint(
            ["counterparty_id"],
            ["counterparties.id"],
            name=op.f("fk_statements_counterparty_id_counterparties"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_statements_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statements")),
    )
    op.create_index(
        "ix_statements_org_counterparty_period",
        "statements",
        ["organization_id", "counterparty_id", "period"],
        unique=True,
    )
    op.create_index(op.f("ix_statements_organization_id"), "statements", ["organization_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE statements ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE statements FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON statements USING ({RULE}) WITH CHECK ({RULE})"
        )
        op.execute(FROZEN)
        op.execute(
            "CREATE TRIGGER statements_frozen BEFORE UPDATE OR DELETE ON statements "
            "FOR EACH ROW EXECUTE FUNCTION statements_frozen()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS statements_frozen ON statements")
        op.execute("DROP FUNCTION IF EXISTS statements_frozen()")
    op.drop_index(op.f("ix_statements_organization_id"), table_name="statements")
    op.drop_index("ix_statements_org_counterparty_period", table_name="statements")
    op.drop_table("statements")
