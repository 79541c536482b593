"""sign-in failures are counted per account and per email, under keyed hashes: the column
names a subject, and the old rows (unkeyed hashes of emails) are dropped (counters start afresh)

Revision ID: 0021_keyed_login_throttles
Revises: 0020_sla_sites
Create Date: 2026-12-04 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_keyed_login_throttles"
down_revision: str | None = "0020_sla_sites"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # An unkeyed SHA-256 of an email is the email to anyone holding a list of addresses.
    op.execute("DELETE FROM login_throttles")
    op.alter_column("login_throttles", "email_hash", new_column_name="subject_hash")
    op.add_column(
        "login_throttles", sa.Column("sole_subject_hash", sa.String(length=64), nullable=True)
    )


def downgrade() -> None:
    op.execute("DELETE FROM login_throttles")
    op.drop_column("login_throttles", "sole_subject_hash")
    op.alter_column("login_throttles", "subject_hash", new_column_name="email_hash")
