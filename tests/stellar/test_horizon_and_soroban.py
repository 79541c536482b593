"""The Horizon and Soroban adapters against stand-ins that speak their protocols."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import update

from app.core.clock import utcnow
from app.core.tenancy import system_session
from app.jobs.models import Job
from tests.helpers import Api, assert_error
from tests.payments.conftest import payment_of, resolve
from tests.stellar.fixtures import Standin, with_wallets


async def _run_retries_now(app: Any) -> int:
    """Runs the jobs waiting for their backoff, as if the delay had passed."""
    async with system_session(app.state.database, "test inspection") as session:
        await session.execute(update(Job).values(run_at=utcnow() - timedelta(seconds=1)))
        await session.commit()
    return int(await app.state.executor.drain())


async def test_a_resolve_pays_through_horizon_and_records_the_outcome_on_the_contract(
    network_app: Any, network_api: Api, standin: Standin
) -> None:
    owner = await with_wallets(network_api, standin)
    outage = await resolve(network_api, owner, mttr=5)  # reward 1500
    await network_app.state.executor.drain()
    payment = await payment_of(network_api, owner, outage["id"])
    assert payment["status"] == "confirmed", payment
    assert payment["explorer_url"] == (
        f"https://stellar.expert/explorer/testnet/tx/{payment['transaction_hash']}"
    )
    assert [t["hash"] for t in standin.net.payments_landed()] == [payment["transaction_hash"]]
    assert standin.net.usdc_balance(standin.ops_team.public_key) == Decimal(1500)

    status = (await network_api.get(f"/sla/status/{outage['id']}", owner)).json()
    assert status["contract_status"] == "matched" and status["smart_contract_invoked"] is True
    assert standin.net.contract_calls == [{"outage_id": outage["id"], "amount": Decimal(1500)}]
    assert status["contract_tx_hash"] in standin.net.transactions

    balance = await network_api.get(
        f"/wallets/address/{standin.ops_team.public_key}/balance", owner, params={"refresh": True}
    )
    assert balance.json()["usdc_balance"] == "1500.0000000"
    assert balance.json()["network"] == "testnet"


async def test_a_504_after_the_payment_landed_is_found_by_hash_and_paid_once(
    network_app: Any, network_api: Api, standin: Standin
) -> None:
    owner = await with_wallets(network_api, standin)
    standin.net.answer_504_after_apply = 1
    outage = await resolve(network_api, owner, mttr=12)  # reward 750
    await network_app.state.executor.drain()
    waiting = await payment_of(network_api, owner, outage["id"])
    assert waiting["status"] == "pending"  # no verdict: the job retries later
    assert [a["outcome"] for a in waiting["attempt_log"]] == ["issued", "unknown"]
    assert len(standin.net.payments_landed()) == 1  # it did land

    await _run_retries_now(network_app)
    paid = await payment_of(network_api, owner, outage["id"])
    assert paid["status"] == "confirmed" and paid["transaction_hash"] == waiting["transaction_hash"]
    assert [a["outcome"] for a in paid["attempt_log"]] == ["issued", "unknown", "found"]
    assert len(standin.net.payments_landed()) == 1
    assert standin.net.usdc_balance(standin.ops_team.public_key) == Decimal(750)


async def test_a_contract_that_disagrees_is_flagged_and_audited(
    network_app: Any, network_api: Api, standin: Standin
) -> None:
    owner = await with_wallets(network_api, standin)
    standin.net.contract_amount_offset = Decimal(1)
    outage = await resolve(network_api, owner, mttr=12)
    await network_app.state.executor.drain()
    status = (await network_api.get(f"/sla/status/{outage['id']}", owner)).json()
    assert status["contract_status"] == "mismatch"
    audit = (
        await network_api.get("/audit", owner, params={"event_type": "sla.contract_mismatch"})
    ).json()
    assert audit["total"] == 1


async def test_horizon_down_keeps_the_payment_pending_and_a_later_run_pays_it(
    network_app: Any, network_api: Api, standin: Standin
) -> None:
    owner = await with_wallets(network_api, standin)
    standin.net.down = True
    outage = await resolve(network_api, owner, mttr=12)
    await network_app.state.executor.drain()
    assert (await payment_of(network_api, owner, outage["id"]))["status"] == "pending"
    down = await network_api.get(
        f"/wallets/address/{standin.pool.public_key}/balance", owner, params={"refresh": True}
    )
    assert_error(down, 504, "STELLAR_TIMEOUT")
    standin.net.down = False
    await _run_retries_now(network_app)
    assert (await payment_of(network_api, owner, outage["id"]))["status"] == "confirmed"
    assert len(standin.net.payments_landed()) == 1


async def test_sla_calculate_reports_the_contract_invocation(
    network_app: Any, network_api: Api, standin: Standin
) -> None:
    owner = await with_wallets(network_api, standin)
    outage = await resolve(network_api, owner, mttr=5)  # critical: reward 1500
    seed_request = {"outage_id": outage["id"]}  # the seed's body (its id is ours)
    before = (await network_api.post("/sla/calculate", owner, json=seed_request)).json()
    invocation = before["contract_invocation"]
    assert invocation["contract_id"] == network_app.state.settings.soroban_contract_id
    assert invocation["function"] == "calculate_sla"
    assert invocation["arguments"] == {
        "operator": standin.operator.public_key,
        "outage_id": outage["id"],
        "severity": "critical",
        "mttr_minutes": 5,
    }
    assert (invocation["status"], invocation["tx_hash"], invocation["result"]) == (
        "pending",
        None,
        None,
    )
    await network_app.state.executor.drain()
    after = (await network_api.post("/sla/calculate", owner, json=seed_request)).json()
    invocation = after["contract_invocation"]
    assert invocation["status"] == "matched" and invocation["tx_hash"] in standin.net.transactions
    assert invocation["result"] == {"status": "met", "amount": 1500.0}
    assert after["sla_result"]["id"] == before["sla_result"]["id"]


async def test_without_a_contract_the_invocation_is_null(api: Api) -> None:
    owner = await api.owner()
    outage = await resolve(api, owner, mttr=5)
    answer = await api.post("/sla/calculate", owner, json={"outage_id": outage["id"]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["contract_invocation"] is None
