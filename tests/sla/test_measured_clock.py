"""MTTR from the clock: a claim the clock does not bear out waits for a second person, and no
money moves on it until then (issue 23, record 0017)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from app.core.clock import isoformat, utcnow
from tests.helpers import Api, Session, assert_error
from tests.outages.conftest import new_outage, outage_lasting
from tests.payments.conftest import Wallets, usdc_of


async def _detail(api: Api, session: Session, outage_id: str) -> dict[str, Any]:
    response = await api.get(f"/outages/{outage_id}", session)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_a_five_minute_claim_on_a_two_hour_outage_pays_nothing_until_approved(
    app: Any, api: Api, owner: Session, wallets: Wallets
) -> None:
    """The case of the issue: a critical outage detected 120 minutes earlier, resolved by an
    engineer with `mttr_minutes: 5`. The clock says violated; the 1 500 USDC reward the claim
    would earn is paid only once an approver (not the resolver) accepts it."""
    engineer = await api.member(owner, "engineer")
    outage, lasting = await outage_lasting(api, engineer, 120)
    response = await api.post(
        f"/outages/{outage['id']}/resolve", engineer, json={**lasting, "mttr_minutes": 5}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["mttr_minutes"], body["measured_mttr_minutes"], body["mttr_source"]) == (
        120,
        120,
        "clock",
    )
    result = body["sla_result"]
    assert (result["status"], result["outcome"], result["amount"]) == (
        "violated",
        "penalty",
        10500.0,
    )
    assert result["mttr_source"] == "clock"
    (claim,) = body["overrides"]
    assert (claim["status"], claim["claimed_mttr_minutes"], claim["measured_mttr_minutes"]) == (
        "pending",
        5,
        120,
    )
    assert claim["requested_by"] == engineer.user["id"] and claim["source"] == "resolve"
    assert body["settlement_hold"] == "awaiting_override_approval" and body["payment"] is None

    await app.state.executor.drain()
    assert (await api.get("/payments", owner)).json()["total"] == 0
    assert await usdc_of(app, wallets.ops_team.public_key) == 0
    queue = (await api.get("/sla/overrides", owner, params={"status": "pending"})).json()
    assert [o["id"] for o in queue["results"]] == [claim["id"]]

    # The engineer cannot decide (role), nor can anyone decide it twice.
    denied = await api.post(f"/sla/overrides/{claim['id']}/approve", engineer, json={})
    assert_error(denied, 403, "FORBIDDEN")
    approved = await api.post(
        f"/sla/overrides/{claim['id']}/approve", owner, json={"notes": "Logs show 5 minutes"}
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    assert approved.json()["decided_by"] == owner.user["id"]
    again = await api.post(f"/sla/overrides/{claim['id']}/reject", owner, json={})
    assert_error(again, 409, "CONFLICT")

    detail = await _detail(api, owner, outage["id"])
    result = detail["sla_result"]
    assert (result["status"], result["outcome"], result["amount"]) == ("met", "reward", 1500.0)
    assert (result["mttr_minutes"], result["measured_mttr_minutes"]) == (5, 120)
    assert result["mttr_source"] == "approved_override" and result["override_id"] == claim["id"]
    assert detail["mttr_source"] == "approved_override" and detail["settlement_hold"] is None
    assert detail["payment"]["type"] == "reward" and detail["payment"]["amount"] == 1500.0
    await app.state.executor.drain()
    assert await usdc_of(app, wallets.ops_team.public_key) == Decimal(1500)
    events = [e["event"] for e in detail["timeline"]]
    assert events.index("override_requested") < events.index("override_approved")
    audit = {row["event_type"] for row in (await api.get("/audit", owner)).json()["results"]}
    assert {"sla.override_requested", "sla.override_approved"} <= audit


async def test_a_rejected_claim_releases_the_payment_on_the_clock(
    app: Any, api: Api, owner: Session, wallets: Wallets
) -> None:
    engineer = await api.member(owner, "engineer")
    outage, lasting = await outage_lasting(api, engineer, 40)
    await api.post(
        f"/outages/{outage['id']}/resolve", engineer, json={**lasting, "mttr_minutes": 9}
    )
    claim = (await _detail(api, owner, outage["id"]))["overrides"][0]
    rejected = await api.post(
        f"/sla/overrides/{claim['id']}/reject", owner, json={"notes": "No evidence"}
    )
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    detail = await _detail(api, owner, outage["id"])
    # The outcome on the clock stands (no new result); its payment is planned now.
    assert detail["sla_result"]["mttr_source"] == "clock"
    assert detail["sla_result"]["amount"] == 2500.0  # (40 - 15) x 100
    assert detail["payment"]["type"] == "penalty" and detail["payment"]["amount"] == 2500.0
    assert [r for r in detail["timeline"] if r["event"] == "sla_evaluated"].__len__() == 1


async def test_the_resolver_cannot_approve_their_own_claim(
    api: Api, owner: Session, wallets: Wallets
) -> None:
    admin = await api.member(owner, "admin")
    outage, lasting = await outage_lasting(api, admin, 30)
    await api.post(f"/outages/{outage['id']}/resolve", admin, json={**lasting, "mttr_minutes": 3})
    claim = (await _detail(api, admin, outage["id"]))["overrides"][0]
    own = await api.post(f"/sla/overrides/{claim['id']}/approve", admin, json={})
    error = assert_error(own, 403, "FORBIDDEN")
    assert error["details"]["rule"] == "second_person"
    detail = await _detail(api, owner, outage["id"])
    assert detail["overrides"][0]["status"] == "pending" and detail["payment"] is None


async def test_a_backdated_resolution_is_a_claim_too(api: Api, owner: Session) -> None:
    """`resolved_at` further back than the tolerance does not stop the clock there."""
    detected = utcnow() - timedelta(minutes=60)
    outage = await new_outage(api, owner, detected_at=isoformat(detected))
    backdated = isoformat(detected + timedelta(minutes=10))
    body = (
        await api.post(f"/outages/{outage['id']}/resolve", owner, json={"resolved_at": backdated})
    ).json()
    assert body["measured_mttr_minutes"] in (60, 61) and body["mttr_source"] == "clock"
    (claim,) = body["overrides"]
    assert claim["claimed_mttr_minutes"] == 10
    assert claim["claimed_resolved_at"].startswith(backdated[:19])
    assert body["settlement_hold"] == "awaiting_override_approval"


async def test_a_claim_within_the_tolerance_is_no_override(api: Api, owner: Session) -> None:
    outage, lasting = await outage_lasting(api, owner, 20)
    body = (
        await api.post(
            f"/outages/{outage['id']}/resolve", owner, json={**lasting, "mttr_minutes": 21}
        )
    ).json()
    assert body["overrides"] == [] and body["mttr_minutes"] == 20
    assert body["sla_result"]["mttr_source"] == "clock"


async def test_a_dispute_is_accepted_through_the_same_approval_path(
    api: Api, owner: Session
) -> None:
    engineer = await api.member(owner, "engineer")
    admin = await api.member(owner, "admin")
    outage, lasting = await outage_lasting(api, engineer, 25)
    resolved = (await api.post(f"/outages/{outage['id']}/resolve", engineer, json=lasting)).json()
    filed = await api.post(
        "/sla/disputes",
        admin,
        json={
            "outage_id": outage["id"],
            "sla_result_id": resolved["sla_result"]["id"],
            "reason": "Notification delay",
            "claimed_mttr_minutes": 14,
        },
    )
    dispute_id = filed.json()["dispute_id"]
    own = await api.post(
        f"/sla/disputes/{dispute_id}/resolve", admin, json={"resolution": "accepted"}
    )
    assert_error(own, 403, "FORBIDDEN")
    accepted = await api.post(
        f"/sla/disputes/{dispute_id}/resolve", owner, json={"resolution": "accepted"}
    )
    assert accepted.status_code == 200, accepted.text
    detail = await _detail(api, owner, outage["id"])
    assert detail["mttr_source"] == "approved_override" and detail["mttr_minutes"] == 14
    (override,) = detail["overrides"]
    assert (override["source"], override["dispute_id"], override["status"]) == (
        "dispute",
        dispute_id,
        "approved",
    )
    assert override["requested_by"] == admin.user["id"]
    assert detail["sla_result"]["override_id"] == override["id"]
    assert detail["sla_result"]["measured_mttr_minutes"] == 25
