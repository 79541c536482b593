"""A payer's penalties are issued in sequence order: signing them all settles them all, in
one pass, whatever order the signed envelopes come back in (issue 23)."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from stellar_sdk import TransactionEnvelope

from app.stellar.runtime import stellar_for
from tests.helpers import Api, Session
from tests.payments.conftest import Wallets, payment_of, resolve, usdc_of


async def _signed(app: Any, payment: dict[str, Any], wallets: Wallets) -> str:
    network = stellar_for(app.state.database).network
    envelope = TransactionEnvelope.from_xdr(payment["unsigned_xdr"], network.passphrase)
    envelope.sign(wallets.operator)
    return str(envelope.to_xdr())


async def _queue(app: Any, api: Api, owner: Session, count: int) -> list[dict[str, Any]]:
    outages = [await resolve(api, owner, mttr=16 + n) for n in range(count)]
    await app.state.executor.drain()
    return [await payment_of(api, owner, o["id"]) for o in outages]


async def test_five_penalties_of_one_payer_signed_and_all_confirmed_in_one_pass(
    app: Any, api: Api, owner: Session, wallets: Wallets
) -> None:
    queue = await _queue(app, api, owner, 5)
    assert {p["status"] for p in queue} == {"awaiting_signature"}
    numbers = sorted(
        TransactionEnvelope.from_xdr(
            p["unsigned_xdr"], stellar_for(app.state.database).network.passphrase
        ).transaction.sequence
        for p in queue
    )
    assert numbers == list(range(numbers[0], numbers[0] + 5))  # in order, no two alike
    # The signer works through the queue and hands the envelopes back in any order.
    signed = [(p, await _signed(app, p, wallets)) for p in queue]
    random.Random(5).shuffle(signed)
    for payment, xdr in signed:
        posted = await api.post(
            f"/payments/{payment['id']}/signed", owner, json={"signed_xdr": xdr}
        )
        assert posted.status_code == 202, posted.text
    await app.state.executor.drain()
    settled = [await api.get(f"/payments/{p['id']}", owner) for p in queue]
    assert [s.json()["status"] for s in settled] == ["confirmed"] * 5
    # None was re-issued: each landed with the envelope first handed out.
    assert [s.json()["transaction_hash"] for s in settled] == [p["transaction_hash"] for p in queue]
    assert all("refused" not in [a["outcome"] for a in s.json()["attempt_log"]] for s in settled)
    paid = sum(Decimal(str(p["amount"])) for p in queue)  # 100 + 200 + ... + 500
    assert await usdc_of(app, wallets.operator.public_key) == Decimal(50_000) - paid


async def test_a_signed_penalty_waits_for_the_one_before_it(
    app: Any, api: Api, owner: Session, wallets: Wallets
) -> None:
    first, second = await _queue(app, api, owner, 2)
    late = await api.post(
        f"/payments/{second['id']}/signed",
        owner,
        json={"signed_xdr": await _signed(app, second, wallets)},
    )
    assert late.status_code == 202
    await app.state.executor.drain()
    waiting = (await api.get(f"/payments/{second['id']}", owner)).json()
    assert (waiting["status"], waiting["pending_reason"]) == (
        "pending",
        "waiting_for_earlier_payment",
    )
    await api.post(
        f"/payments/{first['id']}/signed",
        owner,
        json={"signed_xdr": await _signed(app, first, wallets)},
    )
    await app.state.executor.drain()
    for payment in (first, second):
        shown = (await api.get(f"/payments/{payment['id']}", owner)).json()
        assert shown["status"] == "confirmed" and shown["pending_reason"] is None


async def test_a_withdrawn_penalty_in_the_middle_moves_the_ones_after_it(
    app: Any, api: Api, owner: Session, wallets: Wallets
) -> None:
    """The second of three penalties is withdrawn (a dispute accepted before it was signed):
    its number will never be used, so the third, signed, cannot land as issued. It is issued
    again (a new signature), and then lands; nothing is paid twice."""
    resolver = await api.member(owner, "engineer")
    filer = await api.member(owner, "engineer")
    outages = [await resolve(api, resolver, mttr=16 + n) for n in range(3)]
    await app.state.executor.drain()
    first, second, third = [await payment_of(api, owner, o["id"]) for o in outages]
    result = (await api.get(f"/sla/results/{outages[1]['id']}", owner)).json()
    dispute = await api.post(
        "/sla/disputes",
        filer,
        json={
            "outage_id": outages[1]["id"],
            "sla_result_id": result["id"],
            "reason": "Access logs",
            "claimed_mttr_minutes": 15,  # met: a reward replaces the penalty
        },
    )
    accepted = await api.post(
        f"/sla/disputes/{dispute.json()['dispute_id']}/resolve",
        owner,
        json={"resolution": "accepted"},
    )
    assert accepted.status_code == 200, accepted.text
    assert (await api.get(f"/payments/{second['id']}", owner)).json()[
        "failure_code"
    ] == "superseded"
    for payment in (third, first):  # the later one first: it waits
        await api.post(
            f"/payments/{payment['id']}/signed",
            owner,
            json={"signed_xdr": await _signed(app, payment, wallets)},
        )
        await app.state.executor.drain()
    assert (await api.get(f"/payments/{first['id']}", owner)).json()["status"] == "confirmed"
    again = (await api.get(f"/payments/{third['id']}", owner)).json()
    assert again["status"] == "awaiting_signature"  # issued again, behind the gap
    assert again["transaction_hash"] != third["transaction_hash"]
    await api.post(
        f"/payments/{third['id']}/signed",
        owner,
        json={"signed_xdr": await _signed(app, again, wallets)},
    )
    await app.state.executor.drain()
    assert (await api.get(f"/payments/{third['id']}", owner)).json()["status"] == "confirmed"
