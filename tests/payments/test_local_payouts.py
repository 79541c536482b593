"""Payouts on the local ledger (the embedded default's adapter) with the inline executor."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from stellar_sdk import Keypair, TransactionEnvelope

from app.stellar.runtime import stellar_for
from tests.helpers import Api, Session, assert_error
from tests.payments.conftest import (
    Wallets,
    local_ledger,
    open_wallets,
    payment_of,
    register_wallets,
    resolve,
    usdc_of,
)


async def test_a_resolve_pays_the_reward_once_and_confirms_it(
    app: Any, api: Api, owner: Session, wallets: Wallets
) -> None:
    pool = stellar_for(app.state.database).network.pool_address
    pool_before = await usdc_of(app, pool)
    outage = await resolve(api, owner, mttr=5)  # < 50% of 15 min: 750 x 2
    assert (await payment_of(api, owner, outage["id"]))["status"] == "pending"

    assert await app.state.executor.drain() == 1
    assert await app.state.executor.drain() == 0  # nothing left to run: paid once

    payment = await payment_of(api, owner, outage["id"])
    assert payment["status"] == "confirmed" and payment["type"] == "reward"
    assert payment["amount"] == 1500.0 and payment["asset_code"] == "USDC"
    assert (payment["from_address"], payment["to_address"]) == (pool, wallets.ops_team.public_key)
    assert len(payment["transaction_hash"]) == 64 and payment["ledger"]
    assert [a["outcome"] for a in payment["attempt_log"]] == ["issued", "confirmed"]
    assert await usdc_of(app, wallets.ops_team.public_key) == Decimal(1500)
    assert await usdc_of(app, pool) == pool_before - 1500
    found = await local_ledger(app).find(payment["transaction_hash"])
    assert found is not None and found.successful

    detail = (await api.get(f"/outages/{outage['id']}", owner)).json()
    events = [e["event"] for e in detail["timeline"]]
    assert events[-2:] == ["payment_triggered", "payment_confirmed"]
    status = (await api.get(f"/sla/status/{outage['id']}", owner)).json()
    assert status["payment_executed"] is True
    assert status["payment_tx_hash"] == payment["transaction_hash"]


async def test_history_filters_and_sums_only_confirmed_money(
    app: Any, api: Api, owner: Session, wallets: Wallets
) -> None:
    await resolve(api, owner, mttr=5)  # reward 1500
    await resolve(api, owner, mttr=25)  # penalty 1000: waits for the operator's signature
    await app.state.executor.drain()
    history = (await api.get("/payments", owner)).json()
    assert history["total"] == 2
    assert {r["status"] for r in history["results"]} == {"confirmed", "awaiting_signature"}
    assert history["summary"] == {
        "total_penalties": 0.0,
        "total_rewards": 1500.0,
        "net_amount": 1500.0,
    }
    rewards = (await api.get("/payments", owner, params={"type": "reward"})).json()
    assert [r["type"] for r in rewards["results"]] == ["reward"]
    # The local ledger has no public explorer.
    assert rewards["results"][0]["explorer_url"] is None
    waiting = (await api.get("/payments", owner, params={"status": "awaiting_signature"})).json()
    assert waiting["total"] == 1 and waiting["results"][0]["unsigned_xdr"]
    analytics = (await api.get("/analytics/payments", owner, params={"group_by": "month"})).json()
    assert analytics["summary"]["total_rewards"] == 1500.0
    assert analytics["summary"]["transaction_count"] == 1
    assert analytics["trends"][0]["net"] == 1500.0
    assert_error(
        await api.get("/payments", owner, params={"type": "gift"}), 422, "VALIDATION_ERROR"
    )


async def test_a_penalty_is_signed_by_the_payer_and_must_be_the_issued_transaction(
    app: Any, api: Api, owner: Session, wallets: Wallets
) -> None:
    outage = await resolve(api, owner, mttr=25)  # 10 min over: penalty 1000
    await app.state.executor.drain()
    payment = await payment_of(api, owner, outage["id"])
    assert payment["status"] == "awaiting_signature" and payment["type"] == "penalty"
    assert payment["from_address"] == wallets.operator.public_key
    network = stellar_for(app.state.database).network
    issued = TransactionEnvelope.from_xdr(payment["unsigned_xdr"], network.passphrase)
    assert issued.signatures == []
    path = f"/payments/{payment['id']}/signed"

    # Another transaction (here: the same payment for a larger amount), properly signed.
    forged = TransactionEnvelope.from_xdr(payment["unsigned_xdr"], network.passphrase)
    forged.transaction.operations[0].amount = "1.0000000"  # type: ignore[attr-defined]
    forged.sign(wallets.operator)
    refused = assert_error(
        await api.post(path, owner, json={"signed_xdr": forged.to_xdr()}), 422, "VALIDATION_ERROR"
    )
    assert "not the transaction that was issued" in refused["message"]
    # The issued transaction, unsigned or signed by someone else.
    assert_error(
        await api.post(path, owner, json={"signed_xdr": payment["unsigned_xdr"]}),
        422,
        "VALIDATION_ERROR",
    )
    stranger = TransactionEnvelope.from_xdr(payment["unsigned_xdr"], network.passphrase)
    stranger.sign(wallets.ops_team)
    assert_error(
        await api.post(path, owner, json={"signed_xdr": stranger.to_xdr()}), 422, "VALIDATION_ERROR"
    )
    assert_error(
        await api.post(path, owner, json={"signed_xdr": "not-xdr"}), 422, "VALIDATION_ERROR"
    )
    viewer = await api.member(owner, "engineer")
    assert_error(await api.post(path, viewer, json={"signed_xdr": "x"}), 403, "FORBIDDEN")
    assert (await payment_of(api, owner, outage["id"]))["status"] == "awaiting_signature"

    issued.sign(wallets.operator)
    accepted = await api.post(path, owner, json={"signed_xdr": issued.to_xdr()})
    assert accepted.status_code == 202 and accepted.json()["status"] == "pending"
    await app.state.executor.drain()
    paid = await payment_of(api, owner, outage["id"])
    assert paid["status"] == "confirmed"
    assert await usdc_of(app, wallets.operator.public_key) == Decimal(49_000)
    again = await api.post(path, owner, json={"signed_xdr": issued.to_xdr()})
    assert_error(again, 409, "CONFLICT")


async def test_a_missing_trustline_fails_clearly_and_trigger_retries_it(
    app: Any, api: Api, owner: Session
) -> None:
    wallets = await open_wallets(app, ops_team_trusts=False)
    await register_wallets(api, owner, wallets)
    outage = await resolve(api, owner, mttr=12)  # reward 750
    await app.state.executor.drain()
    failed = await payment_of(api, owner, outage["id"])
    assert failed["status"] == "failed"
    assert failed["failure_code"] == "STELLAR_NO_TRUSTLINE"
    assert "op_no_trust" in failed["failure_message"]
    events = (await api.get("/audit", owner, params={"event_type": "payment.failed"})).json()
    assert events["total"] == 1

    await local_ledger(app).trust(wallets.ops_team.public_key)
    retried = await api.post("/payments/trigger", owner, json={"outage_id": outage["id"]})
    assert retried.status_code == 200, retried.text
    assert retried.json()["payment"]["status"] == "pending"
    await app.state.executor.drain()
    paid = await payment_of(api, owner, outage["id"])
    assert paid["id"] == failed["id"] and paid["status"] == "confirmed"
    assert await usdc_of(app, wallets.ops_team.public_key) == Decimal(750)


async def test_a_missing_wallet_fails_the_payment_until_trigger_registers_it(
    app: Any, api: Api, owner: Session
) -> None:
    outage = await resolve(api, owner, mttr=12)
    failed = await payment_of(api, owner, outage["id"])
    assert (failed["status"], failed["failure_code"]) == ("failed", "wallet_not_registered")
    wallets = await open_wallets(app)
    body = {
        "outage_id": outage["id"],
        "operator_wallet": wallets.operator.public_key,
        "ops_team_wallet": wallets.ops_team.public_key,
    }
    retried = await api.post("/payments/trigger", owner, json=body)
    assert retried.status_code == 200, retried.text
    await app.state.executor.drain()
    assert (await payment_of(api, owner, outage["id"]))["status"] == "confirmed"
    registered = (await api.get("/wallets/ops_team", owner)).json()
    assert registered["address"] == wallets.ops_team.public_key
    # A different wallet than the registered one is not silently swapped in.
    other = {**body, "ops_team_wallet": wallets.operator.public_key}
    assert_error(await api.post("/payments/trigger", owner, json=other), 409, "CONFLICT")


async def test_execute_payment_and_process_sla_are_idempotent(
    app: Any, api: Api, owner: Session, wallets: Wallets
) -> None:
    outage = await resolve(api, owner, mttr=12)
    result = (await api.get(f"/sla/results/{outage['id']}", owner)).json()
    first = await api.post("/sla/execute-payment", owner, json={"sla_result_id": result["id"]})
    second = await api.post("/sla/execute-payment", owner, json={"sla_result_id": result["id"]})
    assert first.status_code == second.status_code == 200
    assert first.json()["id"] == second.json()["id"]
    processed = await api.post("/payments/process-sla", owner, json={"outage_id": outage["id"]})
    assert processed.json()["payment"]["id"] == first.json()["id"]
    assert processed.json()["sla_result"]["amount"] == 750.0
    await app.state.executor.drain()
    assert (await api.get("/payments", owner)).json()["total"] == 1
    assert_error(
        await api.post("/sla/execute-payment", owner, json={"sla_result_id": "sla_missing"}),
        404,
        "NOT_FOUND",
    )
    unresolved = (
        await api.post("/outages", owner, json={"site_name": "X", "severity": "low"})
    ).json()
    assert_error(
        await api.post("/payments/process-sla", owner, json={"outage_id": unresolved["id"]}),
        409,
        "CONFLICT",
    )


async def test_an_accepted_dispute_after_payment_settles_only_the_difference(
    app: Any, api: Api, owner: Session, wallets: Wallets
) -> None:
    resolver = await api.member(owner, "engineer")  # the owner accepts the dispute below
    outage = await resolve(api, resolver, mttr=12)  # met: reward 750
    await app.state.executor.drain()
    first = await payment_of(api, owner, outage["id"])
    assert first["status"] == "confirmed"
    result = (await api.get(f"/sla/results/{outage['id']}", owner)).json()
    dispute = await api.post(
        "/sla/disputes",
        await api.member(owner, "engineer"),  # accepting takes a second person
        json={
            "outage_id": outage["id"],
            "sla_result_id": result["id"],
            "reason": "clock skew",
            "proposed_mttr_minutes": 5,
        },
    )
    assert dispute.status_code == 201, dispute.text
    resolved = await api.post(
        f"/sla/disputes/{dispute.json()['dispute_id']}/resolve",
        owner,
        json={"resolution": "accepted", "notes": "logs"},
    )
    assert resolved.status_code == 200, resolved.text
    await app.state.executor.drain()
    second = await payment_of(api, owner, outage["id"])
    assert second["id"] != first["id"] and second["parent_payment_id"] == first["id"]
    assert (second["type"], second["amount"], second["status"]) == ("reward", 750.0, "confirmed")
    assert await usdc_of(app, wallets.ops_team.public_key) == Decimal(1500)


async def test_trigger_retries_every_failed_payment_of_the_outage(
    app: Any, api: Api, owner: Session
) -> None:
    """A pending payment counts as settled when the outcome changes; if it then fails, the
    retry must still pay it (review finding)."""
    wallets = await open_wallets(app, ops_team_trusts=False)
    await register_wallets(api, owner, wallets)
    resolver = await api.member(owner, "engineer")  # the owner accepts the dispute below
    outage = await resolve(api, resolver, mttr=12)  # 750, still pending
    result = (await api.get(f"/sla/results/{outage['id']}", owner)).json()
    filed = await api.post(
        "/sla/disputes",
        await api.member(owner, "engineer"),  # accepting takes a second person
        json={
            "outage_id": outage["id"],
            "sla_result_id": result["id"],
            "reason": "logs",
            "proposed_mttr_minutes": 5,
        },
    )
    await api.post(
        f"/sla/disputes/{filed.json()['dispute_id']}/resolve",
        owner,
        json={"resolution": "accepted", "notes": "x"},
    )
    await app.state.executor.drain()
    history = (await api.get("/payments", owner)).json()["results"]
    assert [(p["amount"], p["failure_code"]) for p in history] == [
        (750.0, "STELLAR_NO_TRUSTLINE")
    ] * 2
    await local_ledger(app).trust(wallets.ops_team.public_key)
    assert (
        await api.post("/payments/trigger", owner, json={"outage_id": outage["id"]})
    ).status_code == 200
    await app.state.executor.drain()
    assert {p["status"] for p in (await api.get("/payments", owner)).json()["results"]} == {
        "confirmed"
    }
    assert await usdc_of(app, wallets.ops_team.public_key) == Decimal(1500)


async def test_malformed_envelopes_are_422_and_extra_signatures_are_dropped(
    app: Any, api: Api, owner: Session, wallets: Wallets
) -> None:
    outage = await resolve(api, owner, mttr=25)
    await app.state.executor.drain()
    payment = await payment_of(api, owner, outage["id"])
    path = f"/payments/{payment['id']}/signed"
    for bad in ("é", "AAAA" * 10, payment["unsigned_xdr"][:-8], "=" * 50):
        assert_error(await api.post(path, owner, json={"signed_xdr": bad}), 422, "VALIDATION_ERROR")
    network = stellar_for(app.state.database).network
    envelope = TransactionEnvelope.from_xdr(payment["unsigned_xdr"], network.passphrase)
    envelope.sign(wallets.ops_team)
    envelope.sign(wallets.operator)
    accepted = await api.post(path, owner, json={"signed_xdr": envelope.to_xdr()})
    assert accepted.status_code == 202
    await app.state.executor.drain()
    paid = await payment_of(api, owner, outage["id"])
    assert paid["status"] == "confirmed"
    found = await local_ledger(app).find(paid["transaction_hash"])
    assert found is not None and found.successful


async def test_a_retry_pays_the_wallet_registered_after_the_failure_and_only_once(
    app: Any, api: Api, owner: Session
) -> None:
    wallets = await open_wallets(app)
    ghost = Keypair.random()  # registered by mistake: no such account on the ledger
    await register_wallets(api, owner, Wallets(wallets.operator, ghost))
    outage = await resolve(api, owner, mttr=12)  # reward 750
    await app.state.executor.drain()
    failed = await payment_of(api, owner, outage["id"])
    assert failed["status"] == "failed" and failed["to_address"] == ghost.public_key
    failed_hash = failed["transaction_hash"]

    fixed = {"entity_id": "ops_team", "address": wallets.ops_team.public_key}
    assert (await api.post("/wallets", owner, json=fixed)).status_code in (200, 201)
    retried = await api.post("/payments/trigger", owner, json={"outage_id": outage["id"]})
    assert retried.status_code == 200, retried.text
    await app.state.executor.drain()
    paid = await payment_of(api, owner, outage["id"])
    assert paid["id"] == failed["id"] and paid["status"] == "confirmed"
    assert paid["to_address"] == wallets.ops_team.public_key
    assert any(
        attempt["outcome"] == "failed" and attempt["transaction_hash"] == failed_hash
        for attempt in paid["attempt_log"]
    )
    assert await local_ledger(app).account(ghost.public_key) is None
    # Triggering again pays nobody twice.
    again = await api.post("/payments/trigger", owner, json={"outage_id": outage["id"]})
    assert again.status_code == 200
    await app.state.executor.drain()
    assert await usdc_of(app, wallets.ops_team.public_key) == Decimal(750)
    history = (await api.get("/payments", owner)).json()
    assert history["total"] == 1 and history["summary"]["total_rewards"] == 750.0
