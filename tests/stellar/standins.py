"""Horizon and Stellar RPC stand-ins: real HTTP servers on 127.0.0.1 speaking the two
protocols stellar-sdk uses (Horizon's REST resources, Soroban RPC's JSON-RPC), over one
in-memory network that applies transactions with the ledger rules.

Tests steer failures through attributes of `StandinNetwork` (a 504 after applying, a delay
after applying, an outage), as the real network's failure modes look from the client.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from stellar_sdk import Asset, Keypair, SorobanDataBuilder, TransactionEnvelope, scval
from stellar_sdk import xdr as x
from stellar_sdk.operation import InvokeHostFunction

from app.contracts.engine import DEFAULT_TERMS, Severity, evaluate
from app.stellar.network import amount_text, to_stroops
from app.stellar.rules import AccountState, accounts_touched, apply, asset_key, signed_by

MAX_LIMIT = 2**63 - 1


class StandinNetwork:
    def __init__(self, passphrase: str, usdc: Asset) -> None:
        self.passphrase = passphrase
        self.usdc = usdc
        self.accounts: dict[str, AccountState] = {}
        self.transactions: dict[str, dict[str, Any]] = {}
        self.contract_calls: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.ledger = 1000
        self._paging = itertools.count(1)
        # Failure injection
        self.answer_504_after_apply = 0  # that many submissions apply, then answer 504
        self.delay_after_apply = 0.0  # seconds to hold the answer after applying
        self.applied_event = threading.Event()
        self.down = False  # every request answers 503
        self.contract_amount_offset = Decimal(0)  # the contract disagrees by this much
        self.hide_transactions = False  # lookups by hash miss (Horizon's ingestion lags)
        self.duplicate_answers_bad_seq = False  # a resend of a landed tx gets tx_bad_seq
        self.answer_status: int | None = None  # every request answers this (429, ...)

    # Set-up, as friendbot and the account holders would do it
    def open_account(self, account_id: str, usdc: Decimal = Decimal(0), trust: bool = True) -> None:
        with self.lock:
            state = AccountState(account_id, (self.ledger << 32), to_stroops(Decimal(10_000)))
            if trust:
                state.trustlines[asset_key(self.usdc)] = [to_stroops(usdc), MAX_LIMIT]
            self.accounts[account_id] = state

    def trust(self, account_id: str) -> None:
        with self.lock:
            self.accounts[account_id].trustlines.setdefault(asset_key(self.usdc), [0, MAX_LIMIT])

    def usdc_balance(self, account_id: str) -> Decimal:
        line = self.accounts[account_id].trustlines.get(asset_key(self.usdc))
        return Decimal(line[0]) / Decimal(10_000_000) if line else Decimal(0)

    def payments_landed(self) -> list[dict[str, Any]]:
        return [t for t in self.transactions.values() if t["successful"] and t["kind"] == "payment"]

    def record(
        self, envelope: TransactionEnvelope, kind: str, successful: bool, codes: tuple[str, ...]
    ) -> dict[str, Any]:
        """A landed transaction, as Horizon keeps it (the caller holds the lock)."""
        self.ledger += 1
        record = {
            "hash": envelope.hash_hex(),
            "ledger": self.ledger,
            "successful": successful,
            "kind": kind,
            "codes": codes,
            "envelope_xdr": envelope.to_xdr(),
            "source_account": envelope.transaction.source.account_id,
            "touched": accounts_touched(envelope),
            "paging_token": str(next(self._paging)),
            "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        self.transactions[record["hash"]] = record
        return record

    def history(
        self, account_id: str, cursor: str | None, limit: int, desc: bool, failed: bool
    ) -> list[dict[str, Any]]:
        """Horizon's `/accounts/{id}/transactions`: every transaction that touches it."""
        with self.lock:
            found = [
                t
                for t in self.transactions.values()
                if account_id in t["touched"] and (failed or t["successful"])
            ]
        found.sort(key=lambda t: int(t["paging_token"]), reverse=desc)
        if cursor:
            past = int(cursor)
            found = [t for t in found if (past - int(t["paging_token"])) * (1 if desc else -1) > 0]
        return found[:limit]

    def submit(
        self, envelope: TransactionEnvelope
    ) -> tuple[dict[str, Any] | None, tuple[str, ...]]:
        with self.lock:
            tx_hash = envelope.hash_hex()
            if tx_hash in self.transactions:
                if self.duplicate_answers_bad_seq:
                    return None, ("tx_bad_seq",)
                return self.transactions[tx_hash], ()
            touched = {
                a: self.accounts[a] for a in accounts_touched(envelope) if a in self.accounts
            }
            verdict = apply(envelope, touched, int(time.time()))
            if not verdict.accounts:
                return None, (verdict.transaction_code, *verdict.operation_codes)
            self.accounts.update(verdict.accounts)
            codes = (verdict.transaction_code, *verdict.operation_codes)
            record = self.record(envelope, "payment", verdict.applied, codes)
            self.applied_event.set()
            return record, ()


def _problem(status: int, title: str, extras: dict[str, Any] | None = None) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"https://stellar.org/horizon-errors/{status}",
        "title": title,
        "status": status,
    }
    if extras is not None:
        body["extras"] = extras
    return JSONResponse(body, status_code=status)


def _tx_record(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": record["hash"],
        "paging_token": record["paging_token"],
        "hash": record["hash"],
        "ledger": record["ledger"],
        "created_at": record["created_at"],
        "source_account": record["source_account"],
        "successful": record["successful"],
        "envelope_xdr": record["envelope_xdr"],
        "result_xdr": "",
    }


def _link(request: Request, **query: Any) -> dict[str, str]:
    return {"href": str(request.url.replace_query_params(**query))}


def horizon_app(net: StandinNetwork) -> Starlette:
    async def account(request: Request) -> Response:
        if net.down:
            return _problem(503, "Service Unavailable")
        if net.answer_status:
            return _problem(net.answer_status, "Injected")
        state = net.accounts.get(request.path_params["account_id"])
        if state is None:
            return _problem(404, "Resource Missing")
        balances = [{"asset_type": "native", "balance": amount_text(state.native)}]
        for key, (balance, limit) in state.trustlines.items():
            code, issuer = key.split(":")
            balances.append(
                {
                    "asset_type": "credit_alphanum4",
                    "asset_code": code,
                    "asset_issuer": issuer,
                    "balance": amount_text(balance),
                    "limit": amount_text(limit),
                }
            )
        return JSONResponse(
            {
                "id": state.account_id,
                "account_id": state.account_id,
                "sequence": str(state.sequence),
                "balances": balances,
            }
        )

    async def transaction(request: Request) -> Response:
        if net.down:
            return _problem(503, "Service Unavailable")
        if net.answer_status:
            return _problem(net.answer_status, "Injected")
        record = net.transactions.get(request.path_params["tx_hash"])
        if record is None or net.hide_transactions:
            return _problem(404, "Resource Missing")
        return JSONResponse(_tx_record(record))

    async def account_transactions(request: Request) -> Response:
        if net.down:
            return _problem(503, "Service Unavailable")
        if net.answer_status:
            return _problem(net.answer_status, "Injected")
        query = request.query_params
        order, cursor = query.get("order", "asc"), query.get("cursor") or None
        limit = min(int(query.get("limit", "10")), 200)
        records = net.history(
            request.path_params["account_id"],
            cursor,
            limit,
            desc=order == "desc",
            failed=query.get("include_failed") == "true",
        )
        last = records[-1]["paging_token"] if records else cursor or ""
        first = records[0]["paging_token"] if records else cursor or ""
        opposite = "asc" if order == "desc" else "desc"
        return JSONResponse(
            {
                "_links": {
                    "self": _link(request),
                    "next": _link(request, cursor=last, limit=limit, order=order),
                    "prev": _link(request, cursor=first, limit=limit, order=opposite),
                },
                "_embedded": {"records": [_tx_record(r) for r in records]},
            }
        )

    async def submit(request: Request) -> Response:
        if net.down:
            return _problem(503, "Service Unavailable")
        if net.answer_status:
            return _problem(net.answer_status, "Injected")
        form = await request.form()
        envelope = TransactionEnvelope.from_xdr(str(form["tx"]), net.passphrase)
        record, refused = net.submit(envelope)
        if record is None:
            return _problem(
                400,
                "Transaction Failed",
                {
                    "envelope_xdr": envelope.to_xdr(),
                    "result_codes": {"transaction": refused[0], "operations": list(refused[1:])},
                },
            )
        if net.delay_after_apply:
            await asyncio.sleep(net.delay_after_apply)  # a server slow to answer
        if net.answer_504_after_apply > 0:
            net.answer_504_after_apply -= 1
            return _problem(504, "Timeout")
        if not record["successful"]:
            codes = record["codes"]
            return _problem(
                400,
                "Transaction Failed",
                {
                    "envelope_xdr": envelope.to_xdr(),
                    "result_codes": {"transaction": codes[0], "operations": list(codes[1:])},
                },
            )
        return JSONResponse(_tx_record(record))

    return Starlette(
        routes=[
            Route("/accounts/{account_id}", account),
            Route("/accounts/{account_id}/transactions", account_transactions),
            Route("/transactions/{tx_hash}", transaction),
            Route("/transactions", submit, methods=["POST"]),
        ]
    )


def _account_entry(state: AccountState) -> str:
    entry = x.LedgerEntryData(
        type=x.LedgerEntryType.ACCOUNT,
        account=x.AccountEntry(
            account_id=Keypair.from_public_key(state.account_id).xdr_account_id(),
            balance=x.Int64(state.native),
            seq_num=x.SequenceNumber(x.Int64(state.sequence)),
            num_sub_entries=x.Uint32(0),
            inflation_dest=None,
            flags=x.Uint32(0),
            home_domain=x.String32(b""),
            thresholds=x.Thresholds(b"\x01\x00\x00\x00"),
            signers=[],
            ext=x.AccountEntryExt(0),
        ),
    )
    return entry.to_xdr()


def _contract_outcome(net: StandinNetwork, envelope: TransactionEnvelope) -> x.SCVal:
    """The contract's `calculate_sla`, with the platform's default terms."""
    op = envelope.transaction.operations[0]
    assert isinstance(op, InvokeHostFunction)
    invoke = op.host_function.invoke_contract
    assert invoke is not None and invoke.function_name.sc_symbol == b"calculate_sla"
    _, outage_id, severity, mttr = invoke.args
    outcome = evaluate(
        scval.from_uint32(mttr), DEFAULT_TERMS[Severity(scval.from_symbol(severity))]
    )
    amount = outcome.signed_amount + net.contract_amount_offset
    net.contract_calls.append({"outage_id": scval.from_symbol(outage_id), "amount": amount})
    return scval.to_map(
        {
            scval.to_symbol("amount"): scval.to_int128(to_stroops(amount)),
            scval.to_symbol("status"): scval.to_symbol(outcome.status.value),
        }
    )


def rpc_app(net: StandinNetwork) -> Starlette:
    def ledger_info() -> dict[str, Any]:
        now = int(time.time())
        return {"latestLedger": net.ledger, "latestLedgerCloseTime": str(now)}

    def handle(method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "getLedgerEntries":
            entries = []
            for key_xdr in params["keys"]:
                key = x.LedgerKey.from_xdr(key_xdr)
                assert key.account is not None
                account_id = Keypair.from_raw_ed25519_public_key(
                    key.account.account_id.account_id.ed25519.uint256
                ).public_key
                state = net.accounts.get(account_id)
                if state is not None:
                    entries.append(
                        {
                            "key": key_xdr,
                            "xdr": _account_entry(state),
                            "lastModifiedLedgerSeq": net.ledger,
                        }
                    )
            return {"entries": entries, "latestLedger": net.ledger}
        if method == "simulateTransaction":
            envelope = TransactionEnvelope.from_xdr(params["transaction"], net.passphrase)
            value = _contract_outcome(net, envelope)
            return {
                "transactionData": SorobanDataBuilder().build().to_xdr(),
                "minResourceFee": "100",
                "results": [{"xdr": value.to_xdr(), "auth": []}],
                "latestLedger": net.ledger,
            }
        if method == "sendTransaction":
            envelope = TransactionEnvelope.from_xdr(params["transaction"], net.passphrase)
            source = envelope.transaction.source.account_id
            with net.lock:
                state = net.accounts[source]
                ok = (
                    signed_by(envelope, source)
                    and envelope.transaction.sequence == state.sequence + 1
                )
                if ok:
                    state.sequence += 1
                    net.record(envelope, "contract", True, ("tx_success",))
            return {
                "status": "PENDING" if ok else "ERROR",
                "hash": envelope.hash_hex(),
                **ledger_info(),
            }
        if method == "getTransaction":
            record = net.transactions.get(params["hash"])
            now = int(time.time())
            base = {
                "txHash": params["hash"],
                "latestLedger": net.ledger,
                "latestLedgerCloseTime": now,
                "oldestLedger": 1,
                "oldestLedgerCloseTime": now - 3600,
            }
            if record is None:
                return {"status": "NOT_FOUND", **base}
            return {"status": "SUCCESS", "ledger": record["ledger"], "applicationOrder": 1, **base}
        if method == "getNetwork":
            return {"passphrase": net.passphrase, "protocolVersion": 23}
        raise KeyError(method)

    async def endpoint(request: Request) -> Response:
        if net.down:
            return Response("unavailable", status_code=503)
        body = await request.json()
        try:
            result = handle(body["method"], body.get("params") or {})
        except KeyError:
            return JSONResponse(
                {
                    "jsonrpc": "2.0",
                    "id": body.get("id"),
                    "error": {"code": -32601, "message": "method not found"},
                }
            )
        return JSONResponse({"jsonrpc": "2.0", "id": body.get("id"), "result": result})

    return Starlette(routes=[Route("/", endpoint, methods=["POST"])])
