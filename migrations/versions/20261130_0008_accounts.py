"""accounts: one email per organization (an email may hold accounts in several), password
reset tokens

Revision ID: 0008_accounts
Revises: 0007_row_level_security
Create Date: 2026-11-30 00:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.core.db

revision: str = "0008_accounts"
down_revision: str | None = "0007_row_level_security"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RULE = (
    "(SELECT current_setting('app.cross_tenant', true)) = 'on' "
    "OR organization_id = (SELECT current_setting('app.tenant', true))"
)


def upgrade() -> None:
    op.create_table(
        "password_resets",
        sa.Column("id", sa.String(length=30), nullable=False),
        sa.Column("user_id", sa.String(length=30), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", app.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("organization_id", sa.String(length=30), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_password_resets_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_password_resets_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_resets")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_password_resets_token_hash")),
    )
    op.create_index(
        op.f("ix_password_resets_organization_id"),
        "password_resets",
        ["organization_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_password_resets_user_id"), "password_resets", ["user_id"], unique=False
    )
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f("uq_users_email"), type_="unique")
        batch.create_unique_constraint(
            op.f("uq_users_organization_id_email"), ["organization_id", "email"]
        )
    op.create_index("ix_users_email", "users", ["email"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE password_resets ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE password_resets FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON password_resets USING ({RULE}) WITH CHECK ({RULE})"
        )


def downgrade() -> None:
    op.drop_index("ix_users_email", table_name="users")
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f("uq_users_organization_id_email"), type_="unique")
        batch.create_unique_constraint(op.f("uq_users_email"), ["email"])
    op.drop_index(op.f("ix_password_resets_user_id"), table_name="password_resets")
    op.drop_index(op.f("ix_password_resets_organization_id"), table_name="password_resets")
    op.drop_table("password_resets")
