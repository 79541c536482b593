"""The local ledger's state: accounts, USDC trustlines and the transactions applied.

Not tenant data: like the network it simulates, it is one shared ledger.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base


class LedgerAccount(Base):
    __tablename__ = "ledger_accounts"

    account_id: Mapped[str] = mapped_column(String(56), primary_key=True)
    sequence: Mapped[int] = mapped_column(BigInteger)
    native: Mapped[int] = mapped_column(BigInteger)  # stroops of XLM
    created_at: Mapped[datetime]


class LedgerTrustline(Base):
    __tablename__ = "ledger_trustlines"

    account_id: Mapped[str] = mapped_column(
        ForeignKey("ledger_accounts.account_id", ondelete="CASCADE"), primary_key=True
    )
    asset: Mapped[str] = mapped_column(String(70), primary_key=True)  # CODE:ISSUER
    balance: Mapped[int] = mapped_column(BigInteger)
    limit: Mapped[int] = mapped_column(BigInteger)


class LedgerTransaction(Base):
    __tablename__ = "ledger_transactions"

    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(56), index=True)
    sequence: Mapped[int] = mapped_column(BigInteger)
    successful: Mapped[bool]
    transaction_code: Mapped[str] = mapped_column(String(40))
    operation_codes: Mapped[list[str]]
    ledger: Mapped[int] = mapped_column(BigInteger)
    envelope_xdr: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
