"""Regression tests for an independent review of the payout path: each one a way money could
have been paid twice, lost, or answered with a 500."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.helpers import Api, assert_error
from tests.payments.conftest import payment_of, resolve
from tests.stellar.fixtures import Standin, with_wallets
from tests.stellar.test_horizon_and_soroban import _run_retries_now


async def _accept_dispute(api: Api, owner: Any, outage_id: str, mttr: int) -> None:
    result = (await api.get(f"/sla/results/{outage_id}", owner)).json()
    filed = await api.post(
        "/sla/disputes",
        await api.member(owner, "engineer"),  # accepting takes a second person
        json={
            "outage_id": outage_id,
            "sla_result_id": result["id"],
            "reason": "logs",
            "proposed_mttr_minutes": mttr,
        },
    )
    dispute_id = filed.json()["dispute_id"]
    acceptor = await api.member(owner, "admin")  # neither the filer nor the resolver
    resolved = await api.post(
        f"/sla/disputes/{dispute_id}/resolve",
        acceptor,
        json={"resolution": "accepted", "notes": "x"},
    )
    assert resolved.status_code == 200, resolved.text


async def test_a_timed_out_payment_counts_as_settled_when_the_outcome_changes(
    network_app: Any, network_api: Api, standin: Standin
) -> None:
    owner = await with_wallets(network_api, standin)
    standin.net.answer_504_after_apply = 1000  # it lands; nobody hears back
    standin.net.hide_transactions = True  # and lookups do not see it yet
    outage = await resolve(network_api, owner, mttr=12)  # reward 750
    for _ in range(11):
        await _run_retries_now(network_app)
    timed_out = await payment_of(network_api, owner, outage["id"])
    assert (timed_out["status"], timed_out["failure_code"]) == ("failed", "STELLAR_TIMEOUT")
    await _accept_dispute(network_api, owner, outage["id"], 5)  # now 1500
    standin.net.answer_504_after_apply = 0
    standin.net.hide_transactions = False
    await network_app.state.executor.drain()
    retried = await network_api.post("/payments/trigger", owner, json={"outage_id": outage["id"]})
    assert retried.status_code == 200, retried.text
    await _run_retries_now(network_app)
    history = (await network_api.get("/payments", owner)).json()
    assert sorted(p["amount"] for p in history["results"]) == [750.0, 750.0]
    assert {p["status"] for p in history["results"]} == {"confirmed"}
    assert standin.net.usdc_balance(standin.ops_team.public_key) == Decimal(1500)


async def test_bad_seq_after_an_unanswered_send_is_looked_up_again_not_rebuilt(
    network_app: Any, network_api: Api, standin: Standin
) -> None:
    owner = await with_wallets(network_api, standin)
    standin.net.answer_504_after_apply = 1
    standin.net.hide_transactions = True
    standin.net.duplicate_answers_bad_seq = True
    outage = await resolve(network_api, owner, mttr=12)
    await network_app.state.executor.drain()
    await _run_retries_now(network_app)  # lookup misses, resend gets tx_bad_seq: wait
    waiting = await payment_of(network_api, owner, outage["id"])
    assert waiting["status"] == "pending", [a["outcome"] for a in waiting["attempt_log"]]
    assert [a["outcome"] for a in waiting["attempt_log"]] == ["issued", "unknown", "refused"]
    standin.net.hide_transactions = False
    await _run_retries_now(network_app)
    paid = await payment_of(network_api, owner, outage["id"])
    assert paid["status"] == "confirmed" and paid["transaction_hash"] == waiting["transaction_hash"]
    assert len(standin.net.payments_landed()) == 1


async def test_horizon_rate_limiting_is_no_verdict(
    network_app: Any, network_api: Api, standin: Standin
) -> None:
    owner = await with_wallets(network_api, standin)
    standin.net.answer_status = 429
    outage = await resolve(network_api, owner, mttr=12)
    await network_app.state.executor.drain()
    assert (await payment_of(network_api, owner, outage["id"]))["status"] == "pending"
    balance = await network_api.get(
        f"/wallets/address/{standin.pool.public_key}/balance", owner, params={"refresh": True}
    )
    assert_error(balance, 504, "STELLAR_TIMEOUT")
    standin.net.answer_status = None
    await _run_retries_now(network_app)
    assert (await payment_of(network_api, owner, outage["id"]))["status"] == "confirmed"
