"""The seed's dispute examples, sent unchanged: accepting with `{"resolution": "accepted",
"notes"}` recomputes with the MTTR the dispute claimed when filed."""

from __future__ import annotations

from typing import Any

from tests.disputes.test_disputes import _disputable
from tests.helpers import Api, Session

SEED_ACCEPT = {
    "resolution": "accepted",
    "notes": "Reviewed engineer call logs — notification delay confirmed",
}


async def _file(api: Api, owner: Session, outage: dict[str, Any], **claim: Any) -> str:
    seed_filing = {
        "outage_id": outage["id"],
        "sla_result_id": outage["sla_result"]["id"],
        "reason": "MTTR measurement started before engineer was notified",
    }
    filed = await api.post("/sla/disputes", owner, json={**seed_filing, **claim})
    assert filed.status_code == 201, filed.text
    return str(filed.json()["dispute_id"])


async def test_accepting_with_the_seed_body_uses_the_claimed_mttr(api: Api) -> None:
    owner = await api.owner()
    filer = await api.member(owner, "engineer")  # accepting takes a second person
    outage = await _disputable(api, owner, 25)  # critical: 15 min threshold, penalty
    dispute_id = await _file(api, filer, outage, claimed_mttr_minutes=14)
    shown = (await api.get(f"/sla/disputes/{dispute_id}", owner)).json()
    assert shown["claimed_mttr_minutes"] == 14
    accepted = await api.post(f"/sla/disputes/{dispute_id}/resolve", owner, json=SEED_ACCEPT)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["resolution"] == "accepted"
    latest = (await api.get(f"/sla/results/{outage['id']}", owner)).json()
    assert (latest["mttr_minutes"], latest["status"]) == (14, "met")


async def test_an_adjusted_mttr_is_the_acceptors_own_claim(api: Api) -> None:
    """`adjusted_mttr_minutes` other than what the filer claimed is a number only the acceptor
    stands behind: it waits for yet another person, and nothing is paid meanwhile."""
    owner = await api.owner()
    filer = await api.member(owner, "engineer")
    third = await api.member(owner, "admin")
    outage = await _disputable(api, owner, 25)
    dispute_id = await _file(api, filer, outage, claimed_mttr_minutes=14)
    decision = {**SEED_ACCEPT, "adjusted_mttr_minutes": 20}
    accepted = await api.post(f"/sla/disputes/{dispute_id}/resolve", owner, json=decision)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["new_sla_result_id"] is None
    detail = (await api.get(f"/outages/{outage['id']}", owner)).json()
    (claim,) = [o for o in detail["overrides"] if o["status"] == "pending"]
    assert (claim["claimed_mttr_minutes"], claim["requested_by"]) == (20, owner.user["id"])
    assert claim["dispute_id"] == dispute_id and detail["settlement_hold"]
    own = await api.post(f"/sla/overrides/{claim['id']}/approve", owner, json={})
    assert own.status_code == 403
    approved = await api.post(f"/sla/overrides/{claim['id']}/approve", third, json={})
    assert approved.status_code == 200, approved.text
    latest = (await api.get(f"/sla/results/{outage['id']}", owner)).json()
    assert (latest["mttr_minutes"], latest["status"]) == (20, "violated")


async def test_accepting_a_dispute_that_claimed_nothing_says_what_is_missing(api: Api) -> None:
    owner = await api.owner()
    outage = await _disputable(api, owner, 25)
    dispute_id = await _file(api, owner, outage)  # the seed's filing, unchanged
    refused = await api.post(f"/sla/disputes/{dispute_id}/resolve", owner, json=SEED_ACCEPT)
    assert refused.status_code == 422, refused.text
    message = refused.json()["error"]["message"]
    assert "claimed_mttr_minutes" in message and "adjusted_mttr_minutes" in message
    still = (await api.get(f"/sla/disputes/{dispute_id}", owner)).json()
    assert (still["status"], still["resolution"]) == ("open", None)
