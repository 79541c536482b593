"""The local ledger (embedded default): Stellar simulated in the platform's own database.

Envelopes are real stellar-sdk transactions; `rules.apply` checks them as the network would.
Each call runs in a transaction of its own, like a separate system: a payout that crashes
after submitting leaves the payment on the ledger and only a lookup by hash finds it.
"""

from __future__ import annotations

import time
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from stellar_sdk import Asset, TransactionEnvelope

from app.core.clock import utcnow
from app.core.db import Database
from app.stellar.models import LedgerAccount, LedgerTransaction, LedgerTrustline
from app.stellar.network import NetworkConfig, to_stroops
from app.stellar.port import AccountInfo, BalanceLine, Submission, TransactionPage
from app.stellar.rules import (
    AccountState,
    account_transaction,
    accounts_touched,
    apply,
    asset_key,
    data_of,
    memo_hash_of,
    payments_of,
)

LEDGER_SECONDS = 5
MAX_TRUST_LIMIT = 2**63 - 1


def _asset_parts(key: str) -> tuple[str, str, str]:
    code, issuer = key.split(":", 1)
    return ("credit_alphanum4" if len(code) <= 4 else "credit_alphanum12", code, issuer)


def _submission(row: LedgerTransaction, passphrase: str) -> Submission:
    return Submission(
        hash=row.hash,
        successful=row.successful,
        transaction_code=row.transaction_code,
        operation_codes=tuple(row.operation_codes),
        ledger=row.ledger,
        memo_hash=memo_hash_of(row.envelope_xdr, passphrase),
        payments=payments_of(row.envelope_xdr, passphrase),
        source=row.source,
        data=data_of(row.envelope_xdr, passphrase),
    )


def _cursor(row: LedgerTransaction) -> str:
    return f"{row.created_at.isoformat()}|{row.hash}"


def _after(cursor: str) -> tuple[datetime, str]:
    created_at, tx_hash = cursor.split("|", 1)
    return datetime.fromisoformat(created_at), tx_hash


class LocalLedger:
    def __init__(self, database: Database, network: NetworkConfig) -> None:
        self.database = database
        self.network = network

    async def account(self, account_id: str) -> AccountInfo | None:
        async with self.database.sessionmaker() as session:
            states = await self._load(session, [account_id], lock=False)
        state = states.get(account_id)
        if state is None:
            return None
        lines = [BalanceLine("native", state.native)]
        for key, (balance, limit) in sorted(state.trustlines.items()):
            kind, code, issuer = _asset_parts(key)
            lines.append(BalanceLine(kind, balance, code, issuer, limit))
        return AccountInfo(account_id, state.sequence, tuple(lines))

    async def find(self, tx_hash: str) -> Submission | None:
        async with self.database.sessionmaker() as session:
            row = await session.get(LedgerTransaction, tx_hash)
        return _submission(row, self.network.passphrase) if row is not None else None

    async def transactions(
        self, account_id: str, cursor: str | None = None, limit: int = 200
    ) -> TransactionPage:
        """The transactions the account is the source of (payments into it are not listed)."""
        query = select(LedgerTransaction).where(
            LedgerTransaction.source == account_id, LedgerTransaction.successful
        )
        if cursor:
            order = tuple_(LedgerTransaction.created_at, LedgerTransaction.hash)
            query = query.where(order < tuple_(*_after(cursor)))
        query = query.order_by(
            LedgerTransaction.created_at.desc(), LedgerTransaction.hash.desc()
        ).limit(limit)
        async with self.database.sessionmaker() as session:
            rows = list((await session.execute(query)).scalars())
        records = tuple(
            account_transaction(
                tx_hash=row.hash,
                source=row.source,
                successful=row.successful,
                ledger=row.ledger,
                created_at=row.created_at,
                envelope_xdr=row.envelope_xdr,
                passphrase=self.network.passphrase,
            )
            for row in rows
        )
        return TransactionPage(records, _cursor(rows[-1]) if len(rows) == limit else None)

    async def submit(self, envelope_xdr: str) -> Submission:
        try:
            envelope = TransactionEnvelope.from_xdr(envelope_xdr, self.network.passphrase)
        except Exception:
            return Submission(hash="", successful=False, transaction_code="tx_malformed")
        tx_hash = envelope.hash_hex()
        async with self.database.sessionmaker() as session, session.begin():
            existing = await session.get(LedgerTransaction, tx_hash)
            if existing is not None:  # as Horizon does: the recorded result, not a new one
                return _submission(existing, self.network.passphrase)
            states = await self._load(session, accounts_touched(envelope), lock=True)
            verdict = apply(envelope, states, int(time.time()))
            if not verdict.accounts:
                return Submission(tx_hash, False, verdict.transaction_code, verdict.operation_codes)
            await self._store(session, verdict.accounts)
            row = LedgerTransaction(
                hash=tx_hash,
                source=envelope.transaction.source.account_id,
                sequence=envelope.transaction.sequence,
                successful=verdict.applied,
                transaction_code=verdict.transaction_code,
                operation_codes=list(verdict.operation_codes),
                ledger=int(time.time()) // LEDGER_SECONDS,
                envelope_xdr=envelope_xdr,
                created_at=utcnow(),
            )
            session.add(row)
            return _submission(row, self.network.passphrase)

    async def _load(
        self, session: AsyncSession, account_ids: list[str], *, lock: bool
    ) -> dict[str, AccountState]:
        query = select(LedgerAccount).where(LedgerAccount.account_id.in_(account_ids))
        if lock:  # in one order, so two payments between the same accounts cannot deadlock
            query = query.order_by(LedgerAccount.account_id).with_for_update()
        accounts = {
            a.account_id: AccountState(a.account_id, a.sequence, a.native)
            for a in (await session.execute(query)).scalars()
        }
        lines = await session.execute(
            select(LedgerTrustline).where(LedgerTrustline.account_id.in_(list(accounts)))
        )
        for line in lines.scalars():
            accounts[line.account_id].trustlines[line.asset] = [line.balance, line.limit]
        return accounts

    async def _store(self, session: AsyncSession, states: dict[str, AccountState]) -> None:
        for state in states.values():
            account = await session.get(LedgerAccount, state.account_id)
            assert account is not None
            account.sequence, account.native = state.sequence, state.native
            for key, (balance, _) in state.trustlines.items():
                line = await session.get(LedgerTrustline, (state.account_id, key))
                assert line is not None
                line.balance = balance

    # The local network's operator tools (friendbot, trustlines, minting): the demo seed,
    # the test suite and the benchmarks set accounts up with these.

    async def fund(self, account_id: str, xlm: Decimal = Decimal(10_000)) -> None:
        """Creates the account (or tops it up) with XLM, like testnet's friendbot."""
        async with self.database.sessionmaker() as session, session.begin():
            account = await session.get(LedgerAccount, account_id, with_for_update=True)
            if account is None:
                # A new account's sequence starts at its ledger number shifted by 32 bits.
                sequence = (int(time.time()) // LEDGER_SECONDS) << 32
                session.add(
                    LedgerAccount(
                        account_id=account_id,
                        sequence=sequence,
                        native=to_stroops(xlm),
                        created_at=utcnow(),
                    )
                )
            else:
                account.native += to_stroops(xlm)

    async def trust(self, account_id: str, asset: Asset | None = None) -> None:
        """Opens a trustline (as a ChangeTrust signed by the account would)."""
        key = asset_key(asset or self.network.usdc)
        async with self.database.sessionmaker() as session, session.begin():
            if await session.get(LedgerTrustline, (account_id, key)) is None:
                session.add(
                    LedgerTrustline(
                        account_id=account_id, asset=key, balance=0, limit=MAX_TRUST_LIMIT
                    )
                )

    async def mint(self, account_id: str, amount: Decimal) -> None:
        """Credits USDC from the issuer (the account must trust it)."""
        key = asset_key(self.network.usdc)
        async with self.database.sessionmaker() as session, session.begin():
            line = await session.get(LedgerTrustline, (account_id, key), with_for_update=True)
            if line is None:
                raise LookupError(f"{account_id} has no USDC trustline")
            line.balance += to_stroops(amount)
