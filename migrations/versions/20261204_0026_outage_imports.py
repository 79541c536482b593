"""the import history (who imported what, how many, which records were refused and why); an
outage knows the import that created it and whether it arrived already over

Revision ID: 0026_outage_imports
Revises: 0025_user_preferences
Create Date: 2026-12-04 14:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import app.core.db

revision: str = "0026_outage_imports"
down_revision: str | None = "0025_user_preferences"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As every tenant policy since 0022: the system role crosses organizations, nothing else does.
RULE = (
    "(SELECT apexchainx_crosses_tenants()) "
    "OR organization_id = (SELECT current_setting('app.tenant', true))"
)
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "outage_imports",
        sa.Column("id", sa.String(length=30), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=True),
        sa.Column("on_error", sa.String(length=8), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("imported", sa.Integer(), nullable=False),
        sa.Column("closed", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("error_count", sa.Integer(), nullable=False),
        sa.Column("errors", JSON, nullable=False),
        sa.Column("outage_ids", JSON, nullable=False),
        sa.Column("organization_id", sa.String(length=30), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_outage_imports_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outage_imports")),
    )
    op.create_index("ix_outage_imports_org_id", "outage_imports", ["organization_id", "id"])
    op.create_index(
        op.f("ix_outage_imports_organization_id"), "outage_imports", ["organization_id"]
    )
    with op.batch_alter_table("outages") as batch:
        batch.add_column(sa.Column("import_id", sa.String(length=30), nullable=True))
        batch.add_column(
            sa.Column("imported_closed", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    if postgres:
        op.execute("ALTER TABLE outage_imports ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE outage_imports FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON outage_imports USING ({RULE}) WITH CHECK ({RULE})"
        )


def downgrade() -> None:
    with op.batch_alter_table("outages") as batch:
        batch.drop_column("imported_closed")
        batch.drop_column("import_id")
    op.drop_index(op.f("ix_outage_imports_organization_id"), table_name="outage_imports")
    op.drop_index("ix_outage_imports_org_id", table_name="outage_imports")
    op.drop_table("outage_imports")
