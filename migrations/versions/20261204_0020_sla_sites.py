"""an outage keeps the site it was detected on (`sla_sites`: its id and name then), which its
contract and maintenance windows follow whatever it is renamed to; a frozen statement's anchor
is written once

Revision ID: 0020_sla_sites
Revises: 0019_statements
Create Date: 2026-12-04 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0020_sla_sites"
down_revision: str | None = "0019_statements"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SITES = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
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
    IF OLD.anchor_tx_hash IS NOT NULL
       AND (NEW.anchor_tx_hash, NEW.anchor_ledger, NEW.anchored_at)
           IS DISTINCT FROM (OLD.anchor_tx_hash, OLD.anchor_ledger, OLD.anchored_at) THEN
        RAISE EXCEPTION 'a closed statement''s anchor is recorded once';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.add_column("outages", sa.Column("sla_sites", SITES, nullable=True))
    if postgres:
        op.execute("SET LOCAL app.cross_tenant = 'on'")
        op.execute(
            "UPDATE outages SET sla_sites = to_jsonb(array_remove(ARRAY[site_id, site_name], NULL))"
        )
        op.execute(FROZEN)
    else:
        op.execute(
            "UPDATE outages SET sla_sites = CASE WHEN site_id IS NULL THEN json_array(site_name) "
            "ELSE json_array(site_id, site_name) END"
        )
    with op.batch_alter_table("outages") as batch:
        batch.alter_column("sla_sites", existing_type=SITES, nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("outages") as batch:
        batch.drop_column("sla_sites")
