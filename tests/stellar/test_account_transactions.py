"""An account's transactions, newest first, page by page: what the audit verifier reads to
find anchors on the ledger (record 0020). Both adapters, and the rule that lets an anchor's
`manage_data` apply."""

from __future__ import annotations

import time
from typing import Any

from stellar_sdk import Account, Keypair, TransactionBuilder

from app.audit.anchors import build_anchor
from app.core.clock import utcnow
from app.stellar.horizon import HorizonLedger
from app.stellar.port import DataOperation, Ledger
from app.stellar.rules import AccountState, accounts_touched, apply
from app.stellar.runtime import Stellar, stellar_for
from tests.stellar.fixtures import Standin


async def _anchor(stellar: Stellar, ledger: Ledger, n: int) -> str:
    account = await ledger.account(stellar.network.pool_address)
    assert account is not None
    envelope = build_anchor(stellar, account.sequence, f"{n:064x}", utcnow(), bytes(24))
    verdict = await ledger.submit(envelope)
    assert verdict.successful, verdict
    return verdict.hash


async def _all_pages(ledger: Ledger, account_id: str, limit: int) -> list[Any]:
    records, cursor = [], None
    while True:
        page = await ledger.transactions(account_id, cursor=cursor, limit=limit)
        records += page.records
        if page.cursor is None:
            return records
        cursor = page.cursor


async def test_the_local_ledger_pages_an_account_s_transactions(app: Any) -> None:
    stellar = stellar_for(app.state.database)
    sent = [await _anchor(stellar, stellar.ledger, n) for n in range(5)]

    records = await _all_pages(stellar.ledger, stellar.network.pool_address, limit=2)
    assert [r.hash for r in records] == sent[::-1]
    newest = records[0]
    assert newest.memo_hash == f"{4:064x}" and newest.source == stellar.network.pool_address
    assert newest.data == (DataOperation(newest.source, "acx-audit", bytes(24)),)
    assert await stellar.ledger.transactions(Keypair.random().public_key) is not None


async def test_horizon_pages_an_account_s_transactions(network_app: Any, standin: Standin) -> None:
    stellar = stellar_for(network_app.state.database)
    assert isinstance(stellar.ledger, HorizonLedger)
    sent = [await _anchor(stellar, stellar.ledger, n) for n in range(5)]

    records = await _all_pages(stellar.ledger, standin.pool.public_key, limit=2)
    assert [r.hash for r in records] == sent[::-1]
    assert records[0].memo_hash == f"{4:064x}" and records[0].data[0].name == "acx-audit"
    assert records[0].created_at.tzinfo is not None
    unknown = await stellar.ledger.transactions(Keypair.random().public_key)
    assert unknown.records == () and unknown.cursor is None


def test_a_manage_data_operation_costs_the_fee_and_the_sequence() -> None:
    source = Keypair.random()
    accounts = {source.public_key: AccountState(source.public_key, 41, 10_000_000)}
    envelope = (
        TransactionBuilder(Account(source.public_key, 41), "rules test network", 100)
        .append_manage_data_op("acx-audit", b"\x01" * 24)
        .set_timeout(300)
        .build()
    )
    envelope.sign(source)
    assert accounts_touched(envelope) == [source.public_key]
    verdict = apply(envelope, accounts, int(time.time()))
    assert verdict.applied and verdict.operation_codes == ("op_success",)
    after = verdict.accounts[source.public_key]
    assert after.sequence == 42 and after.native == 10_000_000 - 100
