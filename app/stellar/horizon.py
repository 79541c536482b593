"""The Horizon adapter: stellar-sdk's `Server` against `STELLAR_HORIZON_URL`.

stellar-sdk's synchronous client runs in a thread; its own retries are off, because a payout
decides itself when to look a transaction up and when to send it again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from stellar_sdk import Server, TransactionEnvelope
from stellar_sdk import xdr as stellar_xdr
from stellar_sdk.client.requests_client import RequestsClient
from stellar_sdk.exceptions import (
    BadRequestError,
    BadResponseError,
    ConnectionError,
    NotFoundError,
    UnknownRequestError,
)

from app.stellar.network import to_stroops
from app.stellar.port import (
    AccountInfo,
    AccountTransaction,
    BalanceLine,
    LedgerUnavailable,
    Submission,
    TransactionPage,
)
from app.stellar.rules import account_transaction, data_of, memo_hash_of, payments_of, source_of

T = TypeVar("T")


def _line(raw: dict[str, Any]) -> BalanceLine:
    limit = raw.get("limit")
    return BalanceLine(
        asset_type=raw["asset_type"],
        balance=to_stroops(Decimal(raw["balance"])),
        asset_code=raw.get("asset_code"),
        asset_issuer=raw.get("asset_issuer"),
        limit=to_stroops(Decimal(limit)) if limit is not None else None,
    )


def result_codes(result_xdr: str | None) -> tuple[str, tuple[str, ...]]:
    """Horizon's names (`tx_failed`, `op_no_trust`) from a TransactionResult XDR."""
    try:
        result = stellar_xdr.TransactionResult.from_xdr(result_xdr or "").result
        tx_code = "tx_" + result.code.name.removeprefix("tx").lower().lstrip("_")
        operations = []
        for op in result.results or []:
            inner = op.tr.payment_result if op.tr is not None else None
            name = inner.code.name if inner is not None else op.code.name
            operations.append("op_" + name.lower().removeprefix("payment_").removeprefix("op"))
        return tx_code, tuple(o.replace("op__", "op_") for o in operations)
    except Exception:
        return "tx_failed", ()


def _from_record(record: dict[str, Any], passphrase: str) -> Submission:
    successful = bool(record.get("successful", True))
    codes: tuple[str, tuple[str, ...]] = ("tx_success", ())
    if not successful:
        codes = result_codes(record.get("result_xdr"))
    return Submission(
        hash=record["hash"],
        successful=successful,
        transaction_code=codes[0],
        operation_codes=codes[1],
        ledger=record.get("ledger"),
        memo_hash=memo_hash_of(record.get("envelope_xdr"), passphrase),
        payments=payments_of(record.get("envelope_xdr"), passphrase),
        source=source_of(record.get("envelope_xdr"), passphrase),
        data=data_of(record.get("envelope_xdr"), passphrase),
    )


def _history_record(record: dict[str, Any], passphrase: str) -> AccountTransaction:
    return account_transaction(
        tx_hash=record["hash"],
        source=record["source_account"],
        successful=bool(record.get("successful", True)),
        ledger=record.get("ledger"),
        created_at=datetime.fromisoformat(record["created_at"].replace("Z", "+00:00")),
        envelope_xdr=record.get("envelope_xdr"),
        passphrase=passphrase,
    )


class HorizonLedger:
    def __init__(self, horizon_url: str, passphrase: str, timeout_seconds: float) -> None:
        self.passphrase = passphrase
        client = RequestsClient(
            num_retries=0,
            request_timeout=int(max(1, timeout_seconds)),
            post_timeout=timeout_seconds,
        )
        self.server = Server(horizon_url, client=client)

    async def _call(self, call: Callable[[], T]) -> T:
        """Only a 404, and a 400 that carries result codes, are answers; any other error
        (429, 5xx, a proxy's 4xx, no connection) is no verdict at all."""
        try:
            return await asyncio.to_thread(call)
        except NotFoundError:
            raise
        except BadRequestError as exc:
            if exc.status == 400 and (exc.extras or {}).get("result_codes"):
                raise
            raise LedgerUnavailable(f"Horizon answered {exc.status}") from exc
        except (ConnectionError, BadResponseError, UnknownRequestError) as exc:
            raise LedgerUnavailable(f"Horizon did not answer: {type(exc).__name__}") from exc

    async def account(self, account_id: str) -> AccountInfo | None:
        try:
            raw = await self._call(lambda: self.server.accounts().account_id(account_id).call())
        except NotFoundError:
            return None
        return AccountInfo(
            account_id, int(raw["sequence"]), tuple(_line(b) for b in raw.get("balances", []))
        )

    async def find(self, tx_hash: str) -> Submission | None:
        try:
            raw = await self._call(lambda: self.server.transactions().transaction(tx_hash).call())
        except NotFoundError:
            return None
        return _from_record(raw, self.passphrase)

    async def transactions(
        self, account_id: str, cursor: str | None = None, limit: int = 200
    ) -> TransactionPage:
        def call() -> dict[str, Any]:
            builder = self.server.transactions().for_account(account_id)
            builder = builder.order(desc=True).limit(limit)
            page: dict[str, Any] = (builder.cursor(cursor) if cursor else builder).call()
            return page

        try:
            raw = await self._call(call)
        except NotFoundError:
            return TransactionPage((), None)
        try:
            records = raw["_embedded"]["records"]
            # Horizon links a next page even after the last one: a short page is the end.
            more = len(records) == limit
            return TransactionPage(
                tuple(_history_record(record, self.passphrase) for record in records),
                records[-1]["paging_token"] if more else None,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise LedgerUnavailable("Horizon answered an unreadable page") from exc

    async def submit(self, envelope_xdr: str) -> Submission:
        envelope = TransactionEnvelope.from_xdr(envelope_xdr, self.passphrase)
        try:
            raw = await self._call(
                lambda: self.server.submit_transaction(envelope, skip_memo_required_check=True)
            )
        except BadRequestError as exc:
            codes = (exc.extras or {}).get("result_codes") or {}
            return Submission(
                hash=envelope.hash_hex(),
                successful=False,
                transaction_code=codes.get("transaction", "tx_failed"),
                operation_codes=tuple(codes.get("operations") or ()),
            )
        return _from_record(raw, self.passphrase)
