"""Rewards paid in batches (PAYOUT_BATCH_SIZE > 1) on the local ledger: one transaction for
many payments, each payment's outcome from its own operation, nobody paid twice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from stellar_sdk import Keypair

from app.core.tenancy import system_session
from app.stellar.models import LedgerTransaction
from tests.helpers import Api, Session, make_app, make_client
from tests.payments.conftest import Wallets, open_wallets, payment_of, register_wallets, resolve
from tests.payments.conftest import usdc_of as usdc_of_app
from tests.stellar.fixtures import Standin, standin, with_wallets
from tests.stellar.test_horizon_and_soroban import _run_retries_now

__all__ = ["standin"]  # the stand-in network fixture, used here too


@pytest.fixture
async def batching_app() -> AsyncIterator[Any]:
    application = make_app(payout_batch_size=100)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def batching_api(batching_app: Any) -> AsyncIterator[Api]:
    async with make_client(batching_app) as http:
        yield Api(http)


async def _ready(app: Any, api: Api) -> tuple[Session, Wallets]:
    owner = await api.owner()
    wallets = await open_wallets(app)
    await register_wallets(api, owner, wallets)
    return owner, wallets


async def _ledger_transactions(app: Any) -> int:
    async with system_session(app.state.database, "test inspection") as session:
        return int((await session.execute(select(func.count(LedgerTransaction.hash)))).scalar_one())


async def test_a_burst_of_rewards_is_one_transaction_and_each_payment_is_confirmed_once(
    batching_app: Any, batching_api: Api
) -> None:
    api, app = batching_api, batching_app
    owner, wallets = await _ready(app, api)
    before = await _ledger_transactions(app)
    outages = [await resolve(api, owner, mttr=5) for _ in range(12)]

    # The first job pays all twelve, and the other jobs are done with it: none runs again.
    assert await app.state.executor.drain() == 1
    assert await app.state.executor.drain() == 0
    jobs = (await api.get("/jobs", owner, params={"kind": "payments.execute"})).json()["results"]
    assert [j["status"] for j in jobs] == ["succeeded"] * 12

    payments = [await payment_of(api, owner, o["id"]) for o in outages]
    assert {p["status"] for p in payments} == {"confirmed"}
    assert len({p["transaction_hash"] for p in payments}) == 1
    assert await _ledger_transactions(app) == before + 1
    assert await usdc_of_app(app, wallets.ops_team.public_key) == Decimal(1500 * 12)
    for payment in payments:
        assert [a["outcome"] for a in payment["attempt_log"]] == ["issued", "confirmed"]
    detail = (await api.get(f"/outages/{outages[3]['id']}", owner)).json()
    assert [e["event"] for e in detail["timeline"]][-1] == "payment_confirmed"


async def test_one_bad_destination_fails_alone_and_the_others_go_out_in_a_new_envelope(
    batching_app: Any, batching_api: Api
) -> None:
    api, app = batching_api, batching_app
    owner, wallets = await _ready(app, api)
    nowhere = Keypair.random().public_key  # no such account on the ledger
    good = [await resolve(api, owner, mttr=5) for _ in range(5)]
    changed = await api.post("/wallets", owner, json={"entity_id": "ops_team", "address": nowhere})
    assert changed.status_code == 200, changed.text
    bad = await resolve(api, owner, mttr=5)
    changed = await api.post(
        "/wallets", owner, json={"entity_id": "ops_team", "address": wallets.ops_team.public_key}
    )
    assert changed.status_code == 200, changed.text
    good += [await resolve(api, owner, mttr=5) for _ in range(4)]
    before = await _ledger_transactions(app)

    await app.state.executor.drain()

    failed = await payment_of(api, owner, bad["id"])
    assert failed["status"] == "failed"
    assert "op_no_destination" in failed["failure_message"]
    confirmed = [await payment_of(api, owner, o["id"]) for o in good]
    assert {p["status"] for p in confirmed} == {"confirmed"}
    assert len({p["transaction_hash"] for p in confirmed}) == 1
    assert failed["transaction_hash"] != confirmed[0]["transaction_hash"]
    # The refused envelope landed as failed (it used its sequence number) and paid nobody;
    # the second paid the nine once.
    assert await _ledger_transactions(app) == before + 2
    assert await usdc_of_app(app, wallets.ops_team.public_key) == Decimal(1500 * 9)
    outcomes = [a["outcome"] for a in confirmed[0]["attempt_log"]]
    assert outcomes == ["issued", "refused", "issued", "confirmed"]


async def test_batches_never_mix_organizations(batching_app: Any, batching_api: Api) -> None:
    api, app = batching_api, batching_app
    first, first_wallets = await _ready(app, api)
    second, second_wallets = await _ready(app, api)
    one = await resolve(api, first, mttr=5)
    two = await resolve(api, second, mttr=5)

    await app.state.executor.drain()

    paid = [await payment_of(api, first, one["id"]), await payment_of(api, second, two["id"])]
    assert [p["status"] for p in paid] == ["confirmed", "confirmed"]
    assert paid[0]["transaction_hash"] != paid[1]["transaction_hash"]
    assert await usdc_of_app(app, first_wallets.ops_team.public_key) == Decimal(1500)
    assert await usdc_of_app(app, second_wallets.ops_team.public_key) == Decimal(1500)


async def test_a_batch_applied_before_a_504_is_found_and_never_sent_again(
    standin: Standin,
) -> None:
    app = make_app(**standin.settings(payout_batch_size=100))
    async with app.router.lifespan_context(app), make_client(app) as http:
        api = Api(http)
        owner = await with_wallets(api, standin)
        outages = [await resolve(api, owner, mttr=12) for _ in range(5)]  # 750 each
        standin.net.answer_504_after_apply = 1
        await app.state.executor.drain()
        # The first job got no verdict; the next member's job looked the hash up and found it.
        assert len(standin.net.payments_landed()) == 1
        await _run_retries_now(app)  # the first job's retry finds everything done
        paid = [await payment_of(api, owner, o["id"]) for o in outages]
    assert {p["status"] for p in paid} == {"confirmed"}
    assert len({p["transaction_hash"] for p in paid}) == 1
    assert [a["outcome"] for a in paid[0]["attempt_log"]] == ["issued", "unknown", "found"]
    assert len(standin.net.payments_landed()) == 1
    assert standin.net.usdc_balance(standin.ops_team.public_key) == Decimal(750 * 5)
