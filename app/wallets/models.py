"""Registered wallets (public keys only) and the cache of ledger balances."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, JSONType, TimestampMixin
from app.core.ids import new_id
from app.core.tenancy import TenantMixin


class Wallet(TenantMixin, TimestampMixin, Base):
    """An entity's public key. `operator` pays penalties; `ops_team` receives rewards."""

    __tablename__ = "wallets"
    __table_args__ = (Index("ix_wallets_org_entity", "organization_id", "entity_id", unique=True),)

    id: Mapped[str] = mapped_column(String(30), primary_key=True, default=lambda: new_id("wal"))
    entity_id: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(56))
    created_by: Mapped[str | None] = mapped_column(String(64))


class BalanceCache(Base):
    """Public ledger data, shared by every organization and instance."""

    __tablename__ = "wallet_balance_cache"

    address: Mapped[str] = mapped_column(String(56), primary_key=True)
    funded: Mapped[bool]
    sequence: Mapped[int | None] = mapped_column(BigInteger)
    balances: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    fetched_at: Mapped[datetime]
