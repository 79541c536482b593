"""Reconciliation with the ledger, an operator's retry, and why a payment is pending
(issue 23)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from app.core.tenancy import system_session
from app.payments.models import Payment
from app.stellar.models import LedgerTransaction
from tests.conftest import TEST_DATABASE_URL
from tests.helpers import Api, Session, assert_error
from tests.payments.conftest import (
    Wallets,
    local_ledger,
    open_wallets,
    payment_of,
    register_wallets,
    resolve,
)
from tests.stellar.fixtures import Standin, with_wallets

ROOT = Path(__file__).resolve().parents[2]


async def _confirmed_rewards(
    app: Any, api: Api, owner: Session, count: int
) -> list[dict[str, Any]]:
    outages = [await resolve(api, owner, mttr=5) for _ in range(count)]
    await app.state.executor.drain()
    paid = [await payment_of(api, owner, o["id"]) for o in outages]
    assert {p["status"] for p in paid} == {"confirmed"}
    return paid


async def test_reconciliation_finds_a_deleted_and_an_altered_payment(
    app: Any, api: Api, owner: Session, wallets: Wallets
) -> None:
    deleted, altered, kept = await _confirmed_rewards(app, api, owner, 3)
    clean = await api.post("/payments/reconcile", owner)
    assert clean.status_code == 200, clean.text
    assert (clean.json()["checked"], clean.json()["mismatch_count"]) == (3, 0)

    # The ledger loses one transaction; the database owner edits another payment's amount.
    async with system_session(app.state.database, "test: tamper") as session:
        await session.execute(
            delete(LedgerTransaction).where(LedgerTransaction.hash == deleted["transaction_hash"])
        )
        await session.execute(
            update(Payment).where(Payment.id == altered["id"]).values(amount=Decimal("1499.5"))
        )
        await session.commit()

    found = (await api.post("/payments/reconcile", owner)).json()
    kinds = {(m["payment_id"], m["kind"]) for m in found["mismatches"]}
    assert kinds == {(deleted["id"], "missing_on_ledger"), (altered["id"], "amount_differs")}
    amount = next(m for m in found["mismatches"] if m["kind"] == "amount_differs")
    assert (amount["expected"], amount["on_ledger"]) == ("1499.5000000", "1500.0000000")
    runs = (await api.get("/payments/reconciliations", owner)).json()["results"]
    assert [r["mismatch_count"] for r in runs] == [2, 0]
    one = (await api.post(f"/payments/{kept['id']}/reconcile", owner)).json()
    assert one["matches"] is True and one["mismatches"] == []
    other = (await api.post(f"/payments/{deleted['id']}/reconcile", owner)).json()
    assert other["matches"] is False and other["mismatches"][0]["kind"] == "missing_on_ledger"
    # Reporting changes nothing.
    assert (await api.get(f"/payments/{deleted['id']}", owner)).json()["status"] == "confirmed"
    audit = (await api.get("/audit", owner, params={"event_type": "payments.reconciled"})).json()
    assert audit["total"] == 2
    viewer = await api.member(owner, "viewer")
    assert_error(await api.post("/payments/reconcile", viewer), 403, "FORBIDDEN")

    # From a shell, the same, and a failing exit status.
    done = await asyncio.to_thread(
        subprocess.run,
        [str(Path(sys.executable).parent / "apexchainx"), "reconcile", owner.organization_id],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": app.state.settings.database_url},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    (report,) = json.loads(done.stdout)
    assert report["organization_id"] == owner.organization_id and report["mismatch_count"] == 2


async def test_a_payment_on_the_ledger_but_not_confirmed_here_is_reported(
    app: Any, api: Api, owner: Session, wallets: Wallets
) -> None:
    (paid,) = await _confirmed_rewards(app, api, owner, 1)
    # The database refuses to move a confirmed payment (migration 0027): what reconciliation
    # must still catch is a copy restored without it, which triggers do not guard.
    superuser = create_async_engine(TEST_DATABASE_URL)
    async with superuser.begin() as connection:
        await connection.execute(text("SET LOCAL session_replication_role = replica"))
        await connection.execute(
            update(Payment).where(Payment.id == paid["id"]).values(status="failed")
        )
    await superuser.dispose()
    found = (await api.post("/payments/reconcile", owner)).json()["mismatches"]
    assert [(m["kind"], m["expected"], m["on_ledger"]) for m in found] == [
        ("not_confirmed_here", "failed", "successful")
    ]


async def test_an_operator_retries_a_failed_payment_once_its_cause_is_fixed(
    app: Any, api: Api, owner: Session
) -> None:
    wallets = await open_wallets(app, ops_team_trusts=False)
    await register_wallets(api, owner, wallets)
    outage = await resolve(api, owner, mttr=5)
    await app.state.executor.drain()
    failed = await payment_of(api, owner, outage["id"])
    assert failed["failure_code"] == "STELLAR_NO_TRUSTLINE"
    engineer = await api.member(owner, "engineer")
    assert_error(await api.post(f"/payments/{failed['id']}/retry", engineer), 403, "FORBIDDEN")
    await local_ledger(app).trust(wallets.ops_team.public_key)
    retried = await api.post(f"/payments/{failed['id']}/retry", owner)
    assert retried.status_code == 200, retried.text
    assert (retried.json()["status"], retried.json()["pending_reason"]) == ("pending", "queued")
    await app.state.executor.drain()
    paid = await payment_of(api, owner, outage["id"])
    assert paid["status"] == "confirmed"
    assert_error(await api.post(f"/payments/{paid['id']}/retry", owner), 409, "CONFLICT")
    penalty = await resolve(api, owner, mttr=25)
    await app.state.executor.drain()
    waiting = await payment_of(api, owner, penalty["id"])
    assert waiting["status"] == "awaiting_signature"
    assert_error(await api.post(f"/payments/{waiting['id']}/retry", owner), 409, "CONFLICT")


async def test_a_pending_payment_says_why_and_retries_on_demand(
    network_app: Any, network_api: Api, standin: Standin
) -> None:
    api = network_api
    owner = await with_wallets(api, standin)
    standin.net.down = True  # Horizon answers 503 to everything
    outage = await resolve(api, owner, mttr=5)
    await network_app.state.executor.drain()
    pending = await payment_of(api, owner, outage["id"])
    assert (pending["status"], pending["pending_reason"]) == ("pending", "ledger_unreachable")
    assert pending["next_attempt_at"] is not None and pending["last_error"]
    standin.net.down = False
    retried = await api.post(f"/payments/{pending['id']}/retry", owner)
    assert retried.status_code == 200, retried.text
    assert await network_app.state.executor.drain() >= 1  # due now, not at its backoff
    paid = await payment_of(api, owner, outage["id"])
    assert (paid["status"], paid["pending_reason"]) == ("confirmed", None)
    standin.net.transactions.pop(paid["transaction_hash"])  # the network forgets it
    report = (await api.post("/payments/reconcile", owner)).json()
    assert [m["kind"] for m in report["mismatches"]] == ["missing_on_ledger"]


async def test_the_database_refuses_to_move_a_confirmed_payment(
    app: Any, api: Api, owner: Session, wallets: Wallets
) -> None:
    (paid,) = await _confirmed_rewards(app, api, owner, 1)
    async with system_session(app.state.database, "test: a bug") as session:
        with pytest.raises(DBAPIError, match="a confirmed payment is final"):
            await session.execute(
                update(Payment).where(Payment.id == paid["id"]).values(status="pending")
            )
        await session.rollback()
    assert (await payment_of(api, owner, paid["outage_id"]))["status"] == "confirmed"
