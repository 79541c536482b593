"""The audit log: append-only, one hash chain per organization."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.ids import new_id
from app.core.tenancy import TenantMixin

GENESIS_HASH = "0" * 64


class AuditChainHead(TenantMixin, Base):
    """The last link of an organization's chain. The chainer locks this row, so two chainers
    of one organization take turns and the chain never forks."""

    __tablename__ = "audit_chain_heads"
    __table_args__ = (UniqueConstraint("organization_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    seq: Mapped[int] = mapped_column(default=0)
    hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)


class AuditAnchor(TenantMixin, Base):
    """A chain head written on the Stellar ledger (the memo of a transaction from the pool
    account): rows up to `seq` cannot be removed or rewritten without the anchor saying so,
    even by someone who holds the database and the key."""

    __tablename__ = "audit_anchors"
    __table_args__ = (Index("ix_audit_anchors_org_seq", "organization_id", "seq"),)

    id: Mapped[str] = mapped_column(String(30), primary_key=True, default=lambda: new_id("anc"))
    seq: Mapped[int]
    hash: Mapped[str] = mapped_column(String(64))
    network: Mapped[str] = mapped_column(String(16))
    transaction_hash: Mapped[str] = mapped_column(String(64))
    ledger: Mapped[int | None]
    anchored_at: Mapped[datetime]
