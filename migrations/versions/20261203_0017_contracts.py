"""SLA contracts per counterparty: counterparties (with their wallets) and contracts (sites,
effective dates) whose per-severity terms are the versioned `sla_policies` rows, numbered per
contract. Every organization gets a default counterparty (its own wallets) and a default
contract (every site, always) holding its current policies and their history; outages,
results and payments name the contract and counterparty they are settled under.

Revision ID: 0017_contracts
Revises: 0016_windows_and_pauses
Create Date: 2026-12-03 23:39:57
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import app.core.db
from app.core.ids import new_id

revision: str = "0017_contracts"
down_revision: str | None = "0016_windows_and_pauses"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RULE = (
    "(SELECT current_setting('app.cross_tenant', true)) = 'on' "
    "OR organization_id = (SELECT current_setting('app.tenant', true))"
)
SITES = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
)
DEFAULT_OF_ORG = (
    "(SELECT c.id FROM sla_contracts c WHERE c.organization_id = {table}.organization_id "
    "AND c.is_default)"
)


def _tables() -> None:
    op.create_table(
        "counterparties",
        sa.Column("id", sa.String(length=30), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("wallet_address", sa.String(length=56), nullable=True),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("organization_id", sa.String(length=30), nullable=False),
        sa.Column("created_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_counterparties_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_counterparties")),
    )
    op.create_index(
        "ix_counterparties_default",
        "counterparties",
        ["organization_id"],
        unique=True,
        postgresql_where=sa.text("is_default"),
        sqlite_where=sa.text("is_default"),
    )
    op.create_index(
        "ix_counterparties_org_name", "counterparties", ["organization_id", "name"], unique=True
    )
    op.create_index(
        op.f("ix_counterparties_organization_id"), "counterparties", ["organization_id"]
    )
    op.create_table(
        "sla_contracts",
        sa.Column("id", sa.String(length=30), nullable=False),
        sa.Column("counterparty_id", sa.String(length=30), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("sites", SITES, nullable=True),
        sa.Column("effective_from", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("effective_to", app.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("organization_id", sa.String(length=30), nullable=False),
        sa.Column("created_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["counterparty_id"],
            ["counterparties.id"],
            name=op.f("fk_sla_contracts_counterparty_id_counterparties"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_sla_contracts_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_contracts")),
    )
    op.create_index("ix_sla_contracts_counterparty", "sla_contracts", ["counterparty_id"])
    op.create_index(
        "ix_sla_contracts_default",
        "sla_contracts",
        ["organization_id"],
        unique=True,
        postgresql_where=sa.text("is_default"),
        sqlite_where=sa.text("is_default"),
    )
    op.create_index(op.f("ix_sla_contracts_organization_id"), "sla_contracts", ["organization_id"])


def _defaults(bind: sa.Connection) -> None:
    """A default counterparty and contract for every existing organization."""
    now = datetime.now(UTC)
    when = app.core.db.UTCDateTime()

    def common() -> list[sa.ColumnClause[Any]]:
        names = ("id", "name", "is_default", "organization_id", "created_by")
        return [
            *(sa.column(name) for name in names),
            sa.column("created_at", when),
            sa.column("updated_at", when),
        ]

    counterparties = sa.table("counterparties", *common(), sa.column("kind"))
    contracts = sa.table(
        "sla_contracts", *common(), sa.column("counterparty_id"), sa.column("effective_from", when)
    )
    organizations = [row[0] for row in bind.execute(sa.text("SELECT id FROM organizations"))]
    for organization in organizations:
        counterparty, contract = new_id("cpy"), new_id("ctr")
        shared = {
            "is_default": True,
            "organization_id": organization,
            "created_by": "system",
            "created_at": now,
            "updated_at": now,
        }
        bind.execute(
            sa.insert(counterparties).values(
                id=counterparty, name="Default counterparty", kind="internal", **shared
            )
        )
        bind.execute(
            sa.insert(contracts).values(
                id=contract,
                counterparty_id=counterparty,
                name="Default contract",
                effective_from=datetime(1970, 1, 1, tzinfo=UTC),
                **shared,
            )
        )


def upgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    if postgres:
        # Row-level security binds the tables' owner too: the backfill is for every tenant.
        op.execute("SET LOCAL app.cross_tenant = 'on'")
    _tables()
    _defaults(bind)
    op.add_column("payments", sa.Column("counterparty_id", sa.String(length=30), nullable=True))
    op.add_column("outages", sa.Column("contract_id", sa.String(length=30), nullable=True))
    op.add_column("sla_policies", sa.Column("contract_id", sa.String(length=30), nullable=True))
    op.add_column("sla_results", sa.Column("contract_id", sa.String(length=30), nullable=True))
    op.add_column("sla_results", sa.Column("counterparty_id", sa.String(length=30), nullable=True))
    # Built from constants of this file only.
    for table in ("outages", "sla_policies", "sla_results"):
        op.execute(
            f"UPDATE {table} SET contract_id = {DEFAULT_OF_ORG.format(table=table)}"  # noqa: S608
        )
    for table in ("sla_results", "payments"):
        op.execute(
            f"UPDATE {table} SET counterparty_id = (SELECT c.counterparty_id "  # noqa: S608
            f"FROM sla_contracts c WHERE c.id = {DEFAULT_OF_ORG.format(table=table)})"
        )
    with op.batch_alter_table("outages") as batch:
        batch.alter_column("contract_id", existing_type=sa.String(length=30), nullable=False)
        batch.create_foreign_key(
            batch.f("fk_outages_contract_id_sla_contracts"),
            "sla_contracts",
            ["contract_id"],
            ["id"],
        )
    with op.batch_alter_table("sla_results") as batch:
        batch.alter_column("contract_id", existing_type=sa.String(length=30), nullable=False)
        batch.alter_column("counterparty_id", existing_type=sa.String(length=30), nullable=False)
    with op.batch_alter_table("sla_policies") as batch:
        batch.alter_column("contract_id", existing_type=sa.String(length=30), nullable=False)
        batch.drop_index("ix_sla_policies_current")
        batch.drop_index("ix_sla_policies_org_version")
        batch.create_index(
            "ix_sla_policies_contract_current",
            ["contract_id", "severity"],
            unique=True,
            postgresql_where=sa.text("is_current"),
            sqlite_where=sa.text("is_current"),
        )
        batch.create_index(
            "ix_sla_policies_contract_version", ["contract_id", "version", "severity"], unique=True
        )
        batch.create_foreign_key(
            batch.f("fk_sla_policies_contract_id_sla_contracts"),
            "sla_contracts",
            ["contract_id"],
            ["id"],
        )
    if postgres:
        for table in ("counterparties", "sla_contracts"):
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
            op.execute(
                f"CREATE POLICY tenant_isolation ON {table} USING ({RULE}) WITH CHECK ({RULE})"
            )


def downgrade() -> None:
    others = (
        op.get_bind()
        .execute(sa.text("SELECT count(*) FROM sla_contracts WHERE NOT is_default"))
        .scalar_one()
    )
    if others:
        # Their terms would collide with the default contract's once policies are per
        # organization again, and results name them: nothing to go back to without losing them.
        raise RuntimeError(
            f"{others} SLA contracts other than the default exist: a downgrade past 0017 "
            "would lose them and the results settled under them."
        )
    with op.batch_alter_table("sla_policies") as batch:
        batch.drop_constraint(
            batch.f("fk_sla_policies_contract_id_sla_contracts"), type_="foreignkey"
        )
        batch.drop_index("ix_sla_policies_contract_version")
        batch.drop_index("ix_sla_policies_contract_current")
        batch.create_index(
            "ix_sla_policies_org_version", ["organization_id", "version", "severity"], unique=True
        )
        batch.create_index(
            "ix_sla_policies_current",
            ["organization_id", "severity"],
            unique=True,
            postgresql_where=sa.text("is_current"),
            sqlite_where=sa.text("is_current"),
        )
        batch.drop_column("contract_id")
    with op.batch_alter_table("sla_results") as batch:
        batch.drop_column("counterparty_id")
        batch.drop_column("contract_id")
    with op.batch_alter_table("outages") as batch:
        batch.drop_constraint(batch.f("fk_outages_contract_id_sla_contracts"), type_="foreignkey")
        batch.drop_column("contract_id")
    op.drop_column("payments", "counterparty_id")
    op.drop_table("sla_contracts")
    op.drop_table("counterparties")
