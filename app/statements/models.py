"""Settlement statements frozen at the close of their period: the canonical JSON document,
its SHA-256, and the ledger transaction that anchors that hash."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.ids import new_id
from app.core.tenancy import TenantMixin


class Statement(TenantMixin, Base):
    __tablename__ = "statements"
    __table_args__ = (
        # One statement per counterparty and period: a closed period reads back the same one.
        Index(
            "ix_statements_org_counterparty_period",
            "organization_id",
            "counterparty_id",
            "period",
            unique=True,
        ),
    )

    id: Mapped[str] = mapped_column(String(30), primary_key=True, default=lambda: new_id("stm"))
    counterparty_id: Mapped[str] = mapped_column(ForeignKey("counterparties.id"))
    period: Mapped[str] = mapped_column(String(16))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    # The canonical JSON (sorted keys, no spaces, UTF-8): the bytes served and hashed; CSV and
    # PDF are rendered from it.
    document: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    closed_at: Mapped[datetime]
    anchor_tx_hash: Mapped[str | None] = mapped_column(String(64))
    anchor_ledger: Mapped[int | None]
    anchored_at: Mapped[datetime | None]
