"""The ledger port: what payouts need from a Stellar ledger, whichever adapter serves it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol


class LedgerUnavailable(Exception):
    """No verdict: the ledger timed out, failed or could not be reached. A transaction sent
    may or may not have landed; only a lookup by hash can tell."""


@dataclass(frozen=True, slots=True)
class BalanceLine:
    asset_type: str  # native, credit_alphanum4, credit_alphanum12
    balance: int  # stroops
    asset_code: str | None = None
    asset_issuer: str | None = None
    limit: int | None = None


@dataclass(frozen=True, slots=True)
class AccountInfo:
    account_id: str
    sequence: int
    balances: tuple[BalanceLine, ...]

    def line(self, code: str, issuer: str) -> BalanceLine | None:
        return next(
            (b for b in self.balances if b.asset_code == code and b.asset_issuer == issuer), None
        )

    @property
    def native(self) -> int:
        return next((b.balance for b in self.balances if b.asset_type == "native"), 0)


@dataclass(frozen=True, slots=True)
class PaymentOperation:
    """One payment operation of a transaction on the ledger: what reconciliation compares."""

    source: str
    destination: str
    amount: Decimal
    asset_code: str | None  # None: XLM
    asset_issuer: str | None


@dataclass(frozen=True, slots=True)
class DataOperation:
    """One `manage_data` operation of a transaction (an audit anchor's attribution)."""

    source: str
    name: str
    value: bytes | None  # None deletes the entry


@dataclass(frozen=True, slots=True)
class AccountTransaction:
    """One transaction of an account's history, as an auditor reads it from the ledger."""

    hash: str
    source: str
    successful: bool
    ledger: int | None
    created_at: datetime
    memo_hash: str | None  # hex, when it has a hash memo
    data: tuple[DataOperation, ...] = ()


@dataclass(frozen=True, slots=True)
class TransactionPage:
    records: tuple[AccountTransaction, ...]
    # Gives the next (older) page; None: the account's history ends with this page.
    cursor: str | None


@dataclass(frozen=True, slots=True)
class Submission:
    """The ledger's verdict on one transaction. A refused transaction that never applied
    (`tx_bad_seq`, `tx_too_late`, ...) is not on the ledger; one whose operations failed
    (`tx_failed`) is, and consumed its sequence number."""

    hash: str
    successful: bool
    transaction_code: str
    operation_codes: tuple[str, ...] = ()
    ledger: int | None = None
    # The transaction's hash memo (hex), when it has one: what an audit anchor records.
    memo_hash: str | None = None
    # Its payment operations, in order (a lookup by hash reads them from the envelope).
    payments: tuple[PaymentOperation, ...] = ()
    # Its source account and `manage_data` operations (read from the envelope, like payments).
    source: str | None = None
    data: tuple[DataOperation, ...] = ()

    @property
    def landed(self) -> bool:
        return self.successful or self.transaction_code == "tx_failed"


class Ledger(Protocol):
    async def account(self, account_id: str) -> AccountInfo | None:
        """None when the account does not exist (unfunded)."""
        ...

    async def submit(self, envelope_xdr: str) -> Submission:
        """Raises LedgerUnavailable when there is no verdict."""
        ...

    async def find(self, tx_hash: str) -> Submission | None:
        """The landed transaction with this hash, or None. Raises LedgerUnavailable."""
        ...

    async def transactions(
        self, account_id: str, cursor: str | None = None, limit: int = 200
    ) -> TransactionPage:
        """The account's successful transactions, newest first, `limit` (at most 200) after
        `cursor`: at least those it is the source of (Horizon lists every one that touches it).
        An account that does not exist has none. Raises LedgerUnavailable."""
        ...
