"""audit chain keyed (HMAC with a key derived from SECRET_KEY, never stored), existing rows
re-signed; rows written unchained and linked by a chainer after commit (the append-only trigger
admits exactly that one update); anchors of chain heads on the Stellar ledger

Revision ID: 0010_keyed_audit_chain
Revises: 0009_request_principal
Create Date: 2026-11-30 03:00:00

Existing rows are verified with their old (unkeyed SHA-256) hashes first; a chain that does not
verify stops the migration rather than being re-signed.
"""

import hashlib
from collections.abc import Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from alembic import op

import app.core.db
from app.audit.chain import row_hash, signing_key
from app.config import get_settings
from app.core.clock import isoformat

revision: str = "0010_keyed_audit_chain"
down_revision: str | None = "0009_request_principal"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = "0" * 64
HASHED = (
    "prev_hash",
    "seq",
    "organization_id",
    "occurred_at",
    "actor_type",
    "actor_id",
    "event_type",
    "entity_type",
    "entity_id",
    "correlation_id",
    "data",
)
# Rows are written unchained; the chainer's one update fills in the chain columns of a row
# that has none, and changes nothing else. Any other UPDATE, and every DELETE, is refused.
CHAINING_ONLY = """
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND NEW.seq IS NOT NULL
       AND NEW.hash IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.key_id IS NOT NULL
       AND (NEW.id, NEW.organization_id, NEW.occurred_at, NEW.actor_type, NEW.actor_id,
            NEW.event_type, NEW.entity_type, NEW.entity_id, NEW.correlation_id, NEW.data::text)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.organization_id, OLD.occurred_at, OLD.actor_type, OLD.actor_id,
            OLD.event_type, OLD.entity_type, OLD.entity_id, OLD.correlation_id, OLD.data::text)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$ LANGUAGE plpgsql
"""
RULE = (
    "(SELECT current_setting('app.cross_tenant', true)) = 'on' "
    "OR organization_id = (SELECT current_setting('app.tenant', true))"
)


def _unkeyed(values: dict[str, Any]) -> str:
    document = {**values, "occurred_at": isoformat(values["occurred_at"])}
    return hashlib.sha256(orjson.dumps(document, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _resign(connection: sa.Connection) -> None:
    key_id, key = signing_key(get_settings())
    typed = {"occurred_at": app.core.db.UTCDateTime(), "data": app.core.db.JSONType}
    log = sa.table(
        "audit_log",
        *(sa.column(name, typed.get(name)) for name in (*HASHED, "id", "hash", "key_id")),
    )
    heads = sa.table("audit_chain_heads", sa.column("organization_id"), sa.column("hash"))
    for (organization_id,) in connection.execute(sa.select(heads.c.organization_id)).all():
        rows = connection.execute(
            sa.select(log).where(log.c.organization_id == organization_id).order_by(log.c.seq)
        ).mappings()
        previous_old, previous_new = GENESIS, GENESIS
        for row in rows:
            values = {name: row[name] for name in HASHED}
            if row["prev_hash"] != previous_old or row["hash"] != _unkeyed(values):
                raise RuntimeError(
                    f"the audit chain of {organization_id} does not verify at row {row['seq']}: "
                    "not re-signing it"
                )
            previous_old = row["hash"]
            values["prev_hash"] = previous_new
            previous_new = row_hash(**values, key=key)
            connection.execute(
                sa.update(log)
                .where(log.c.id == row["id"])
                .values(prev_hash=values["prev_hash"], hash=previous_new, key_id=key_id)
            )
        connection.execute(
            sa.update(heads)
            .where(heads.c.organization_id == organization_id)
            .values(hash=previous_new)
        )


def upgrade() -> None:
    connection = op.get_bind()
    postgres = connection.dialect.name == "postgresql"
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("key_id", sa.String(length=16), nullable=True))
    if postgres:
        # The owner is bound by the forced row-level security too: this migration reads every
        # organization's chain on purpose. The append-only trigger is lifted for the re-signing.
        op.execute("SELECT set_config('app.cross_tenant', 'on', true)")
        op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete")
    _resign(connection)
    if postgres:
        op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update_delete")
        op.execute(CHAINING_ONLY)
    with op.batch_alter_table("audit_log") as batch:
        for column, length in (("prev_hash", 64), ("hash", 64)):
            batch.alter_column(column, existing_type=sa.String(length=length), nullable=True)
        batch.alter_column("seq", existing_type=sa.Integer(), nullable=True)
    op.create_index(
        "ix_audit_log_unchained",
        "audit_log",
        ["organization_id", "id"],
        unique=False,
        postgresql_where=sa.text("seq IS NULL"),
        sqlite_where=sa.text("seq IS NULL"),
    )
    op.create_table(
        "audit_anchors",
        sa.Column("id", sa.String(length=30), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("network", sa.String(length=16), nullable=False),
        sa.Column("transaction_hash", sa.String(length=64), nullable=False),
        sa.Column("ledger", sa.Integer(), nullable=True),
        sa.Column("anchored_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.String(length=30), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_audit_anchors_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_anchors")),
    )
    op.create_index(
        "ix_audit_anchors_org_seq", "audit_anchors", ["organization_id", "seq"], unique=False
    )
    op.create_index(
        op.f("ix_audit_anchors_organization_id"),
        "audit_anchors",
        ["organization_id"],
        unique=False,
    )
    if postgres:
        op.execute("ALTER TABLE audit_anchors ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE audit_anchors FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON audit_anchors USING ({RULE}) WITH CHECK ({RULE})"
        )


def downgrade() -> None:
    op.drop_index("ix_audit_log_unchained", table_name="audit_log")
    op.drop_index(op.f("ix_audit_anchors_organization_id"), table_name="audit_anchors")
    op.drop_index("ix_audit_anchors_org_seq", table_name="audit_anchors")
    op.drop_table("audit_anchors")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("key_id")
