"""Counterparties and their SLA contracts. A contract scopes per-severity terms (the rows of
`sla_policies`, versioned) to some sites (or all) over effective dates; every organization has
a default contract, all sites and always in force, for what no other contract covers."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, NullableJSONType, TimestampMixin
from app.core.ids import new_id
from app.core.tenancy import TenantMixin


class CounterpartyKind:
    contractor = "contractor"  # field contractor: rewarded for speed, charged for delays
    customer = "customer"
    internal = "internal"  # the default counterparty: the organization's own wallets


class Counterparty(TenantMixin, TimestampMixin, Base):
    __tablename__ = "counterparties"
    __table_args__ = (
        Index("ix_counterparties_org_name", "organization_id", "name", unique=True),
        Index(
            "ix_counterparties_default",
            "organization_id",
            unique=True,
            postgresql_where=text("is_default"),
            sqlite_where=text("is_default"),
        ),
    )

    id: Mapped[str] = mapped_column(String(30), primary_key=True, default=lambda: new_id("cpy"))
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))
    # Receives its rewards and pays its penalties. Null: the organization's registered
    # `ops_team` (rewards) and `operator` (penalties) wallets, as before contracts.
    wallet_address: Mapped[str | None] = mapped_column(String(56))
    is_default: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[str | None] = mapped_column(String(64))


class SlaContract(TenantMixin, TimestampMixin, Base):
    __tablename__ = "sla_contracts"
    __table_args__ = (
        Index(
            "ix_sla_contracts_default",
            "organization_id",
            unique=True,
            postgresql_where=text("is_default"),
            sqlite_where=text("is_default"),
        ),
        Index("ix_sla_contracts_counterparty", "counterparty_id"),
    )

    id: Mapped[str] = mapped_column(String(30), primary_key=True, default=lambda: new_id("ctr"))
    counterparty_id: Mapped[str] = mapped_column(ForeignKey("counterparties.id"))
    name: Mapped[str] = mapped_column(String(255))
    # Site names or ids, as outages name them; null: every site.
    sites: Mapped[list[str] | None] = mapped_column(NullableJSONType)
    effective_from: Mapped[datetime]
    effective_to: Mapped[datetime | None]
    is_default: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[str | None] = mapped_column(String(64))


class SlaPolicy(TenantMixin, Base):
    """One severity's terms of one contract at one version. Never updated: a change writes a
    new version and moves `is_current`, so every result can name the exact terms it used."""

    __tablename__ = "sla_policies"
    __table_args__ = (
        Index(
            "ix_sla_policies_contract_version", "contract_id", "version", "severity", unique=True
        ),
        Index(
            "ix_sla_policies_contract_current",
            "contract_id",
            "severity",
            unique=True,
            postgresql_where=text("is_current"),
            sqlite_where=text("is_current"),
        ),
    )

    id: Mapped[str] = mapped_column(String(30), primary_key=True, default=lambda: new_id("pol"))
    # The contract these terms belong to (versions are numbered per contract).
    contract_id: Mapped[str] = mapped_column(ForeignKey("sla_contracts.id"))
    severity: Mapped[str] = mapped_column(String(16))
    version: Mapped[int]
    threshold_minutes: Mapped[int]
    penalty_per_minute: Mapped[Decimal]
    reward_base: Mapped[Decimal]
    is_current: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    created_by: Mapped[str | None] = mapped_column(String(64))
