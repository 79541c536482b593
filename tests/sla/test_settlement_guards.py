"""The ways around a second person that an independent review of issue 23 found, each tried
and refused: a manual payment route, a dispute accepted by the resolver, a renamed site, a
chain of short pauses, a window booked mid-outage, a contract created after the fact."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from stellar_sdk import Keypair

from app.core.clock import isoformat, utcnow
from tests.helpers import Api, Session, assert_error
from tests.outages.conftest import new_outage, outage_lasting
from tests.sla.test_exclusions import _ago, _book, _booked_ago, lenient, lenient_app  # noqa: F401


async def _claimed(api: Api, owner: Session) -> dict[str, Any]:
    engineer = await api.member(owner, "engineer")
    outage, lasting = await outage_lasting(api, engineer, 40)
    response = await api.post(
        f"/outages/{outage['id']}/resolve", engineer, json={**lasting, "mttr_minutes": 5}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


SEED_WALLETS = {
    "operator_wallet": Keypair.random().public_key,
    "ops_team_wallet": Keypair.random().public_key,
}


async def _imported_closed(api: Api, owner: Session) -> dict[str, Any]:
    """A resolver's other way to type an MTTR: an import of the outage already over."""
    engineer = await api.member(owner, "engineer")
    record = {
        "site_name": "Typed history",
        "severity": "critical",
        "detected_at": isoformat(utcnow() - timedelta(hours=3)),
        "resolved_at": isoformat(utcnow() - timedelta(hours=3) + timedelta(minutes=5)),
    }
    imported = await api.post("/outages/import", engineer, json={"outages": [record]})
    assert imported.status_code == 201, imported.text
    return dict((await api.get(f"/outages/{imported.json()['ids'][0]}", owner)).json())


async def _no_route_pays(api: Api, owner: Session, outage: dict[str, Any], hold: str) -> None:
    assert outage["settlement_hold"] == hold
    for path, body in (
        ("/payments/process-sla", {"outage_id": outage["id"]}),
        ("/payments/trigger", {"outage_id": outage["id"]}),
        ("/sla/execute-payment", {"sla_result_id": outage["sla_result"]["id"]}),
        # The seed's bodies (issue 25): by outage, with the payer's and payee's wallets.
        ("/sla/execute-payment", {"outage_id": outage["id"], **SEED_WALLETS}),
        ("/payments/process-sla", {"outage_id": outage["id"], **SEED_WALLETS}),
    ):
        refused = assert_error(await api.post(path, owner, json=body), 409, "CONFLICT")
        assert refused["details"]["settlement_hold"] == hold, path
    assert (await api.get("/payments", owner)).json()["total"] == 0
    # A refused call leaves nothing behind, not even the wallets it named.
    assert (await api.get("/wallets/operator", owner)).status_code == 404


async def test_no_payment_route_pays_while_a_claim_waits(api: Api) -> None:
    owner = await api.owner()
    await _no_route_pays(api, owner, await _claimed(api, owner), "awaiting_override_approval")


async def test_no_payment_route_pays_an_outage_imported_already_over(api: Api) -> None:
    owner = await api.owner()
    await _no_route_pays(api, owner, await _imported_closed(api, owner), "imported_history")


async def test_the_outages_resolver_cannot_accept_a_dispute_of_it(api: Api) -> None:
    owner = await api.owner()
    engineer = await api.member(owner, "engineer")
    outage, lasting = await outage_lasting(api, owner, 25)
    resolved = (await api.post(f"/outages/{outage['id']}/resolve", owner, json=lasting)).json()
    filed = await api.post(
        "/sla/disputes",
        engineer,
        json={
            "outage_id": outage["id"],
            "sla_result_id": resolved["sla_result"]["id"],
            "reason": "Started late",
            "claimed_mttr_minutes": 5,
        },
    )
    accepted = await api.post(
        f"/sla/disputes/{filed.json()['dispute_id']}/resolve",
        owner,
        json={"resolution": "accepted"},
    )
    assert assert_error(accepted, 403, "FORBIDDEN")["details"]["rule"] == "second_person"


async def test_renaming_an_outage_moves_no_time_and_no_contract(
    lenient: Api,  # noqa: F811
    lenient_app: Any,  # noqa: F811
) -> None:
    api = lenient
    owner = await api.owner()
    counterparty = await api.post("/counterparties", owner, json={"name": "Alpha"})
    contract = await api.post(
        "/sla/contracts",
        owner,
        json={
            "counterparty_id": counterparty.json()["id"],
            "name": "Tower A only",
            "sites": ["Tower A"],
            "effective_from": isoformat(utcnow() - timedelta(days=1)),
        },
    )
    assert contract.status_code == 201
    window = await _book(api, owner, sites=["Tower A"], starts_at=_ago(22), ends_at=_ago(0))
    await _booked_ago(lenient_app, window["id"], 60)
    outage = await new_outage(api, owner, site_name="Tower B", detected_at=_ago(25))
    renamed = await api.patch(f"/outages/{outage['id']}", owner, json={"site_name": "Tower A"})
    assert renamed.status_code == 200
    resolved = (await api.post(f"/outages/{outage['id']}/resolve", owner, json={})).json()
    assert resolved["site_name"] == "Tower A" and resolved["sla_sites"] == ["Tower B"]
    assert resolved["excluded_minutes"] == 0 and resolved["measured_mttr_minutes"] >= 25
    assert resolved["contract_id"] == outage["contract_id"] != contract.json()["id"]


async def test_a_chain_of_short_pauses_waits_for_approval_past_the_limit(
    lenient: Api,  # noqa: F811
) -> None:
    api = lenient  # pauses over 10 minutes, together, need approval
    owner = await api.owner()
    outage = await new_outage(api, owner, detected_at=_ago(30))
    statuses = []
    for start, end in ((25, 18), (17, 10)):  # 7 minutes each: 14 together
        pause = await api.post(
            f"/outages/{outage['id']}/pauses",
            owner,
            json={"reason": "Waiting for access", "started_at": _ago(start)},
        )
        ended = await api.post(
            f"/outages/{outage['id']}/pauses/{pause.json()['id']}/end",
            owner,
            json={"ended_at": _ago(end)},
        )
        statuses.append((ended.json()["status"], ended.json()["approval_reason"]))
    assert statuses == [("counted", None), ("pending", "long")]


async def test_a_window_booked_during_an_outage_takes_none_of_its_time(
    lenient: Api,  # noqa: F811
) -> None:
    api = lenient
    owner = await api.owner()
    outage = await new_outage(api, owner, site_name="Tower A", detected_at=_ago(25))
    await _book(api, owner, sites=["Tower A"], starts_at=_ago(20), ends_at=_ago(-60))
    resolved = (await api.post(f"/outages/{outage['id']}/resolve", owner, json={})).json()
    assert resolved["excluded_minutes"] == 0 and resolved["measured_mttr_minutes"] >= 25


async def test_a_decision_after_resolve_keeps_the_contract_and_terms(
    lenient: Api,  # noqa: F811
) -> None:
    api = lenient
    owner = await api.owner()
    engineer = await api.member(owner, "engineer")
    outage = await new_outage(api, engineer, site_name="Tower Q", detected_at=_ago(30))
    pause = await api.post(
        f"/outages/{outage['id']}/pauses",
        engineer,
        json={"reason": "Gate locked", "started_at": _ago(28)},
    )
    await api.post(
        f"/outages/{outage['id']}/pauses/{pause.json()['id']}/end",
        engineer,
        json={"ended_at": _ago(10)},
    )
    resolved = (await api.post(f"/outages/{outage['id']}/resolve", engineer, json={})).json()
    first = resolved["sla_result"]
    counterparty = await api.post("/counterparties", owner, json={"name": "Late Co"})
    backdated = await api.post(
        "/sla/contracts",
        owner,
        json={
            "counterparty_id": counterparty.json()["id"],
            "name": "After the fact",
            "sites": ["Tower Q"],
            "effective_from": isoformat(utcnow() - timedelta(days=30)),
            "terms": {
                "critical": {"threshold_minutes": 60, "penalty_per_minute": 1, "reward_base": 9}
            },
        },
    )
    assert backdated.status_code == 201
    approve = await api.post(
        f"/outages/{outage['id']}/pauses/{pause.json()['id']}/approve", owner, json={}
    )
    assert approve.status_code == 200, approve.text
    result = (await api.get(f"/sla/results/{outage['id']}", owner)).json()
    assert result["trigger"] == "pause" and result["id"] != first["id"]
    assert (result["contract_id"], result["counterparty_id"], result["policy_version"]) == (
        first["contract_id"],
        first["counterparty_id"],
        first["policy_version"],
    )
    assert result["threshold_minutes"] == 15  # the default contract's, not the new one's
