"""The Horizon adapter: stellar-sdk's `Server` against `STELLAR_HORIZON_URL`.

stellar-sdk's synchronous client runs in a thread; its own retries are off, because a payout
decides itself when to look a transaction up and when to send it again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from stellar_sdk import Server, TransactionEnvelope
from stellar_sdk.client.requests_client import RequestsClient
from stellar_sdk.exceptions import (
    BadRequestError,
    BadResponseError,
    ConnectionError,
    NotFoundError,
    UnknownRequestError,
)

from app.stellar.network import to_stroops
from app.stellar.port import AccountInfo, BalanceLine, LedgerUnavailable, Submission

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


def _from_record(record: dict[str, Any]) -> Submission:
    successful = bool(record.get("successful", True))
    return Submission(
        hash=record["hash"],
        successful=successful,
        transaction_code="tx_success" if successful else "tx_failed",
        ledger=record.get("ledger"),
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
        try:
            return await asyncio.to_thread(call)
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
        return _from_record(raw)

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
        return _from_record(raw)
