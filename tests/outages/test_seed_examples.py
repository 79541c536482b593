"""The ApexChainX seed's own example requests, sent unchanged (issue 17)."""

from __future__ import annotations

from tests.helpers import Api
from tests.outages.conftest import approve_claims

# "Create a new outage record", as the seed documents it.
SEED_CREATE = {
    "site_name": "Cell Tower Beta",
    "site_id": "SITE456",
    "severity": "high",
    "description": "Intermittent service degradation",
    "affected_services": ["4G"],
    "affected_subscribers": 500,
    "location": {"latitude": 9.082, "longitude": 8.675},
    "assigned_to": "user123",
}


async def test_the_seeds_create_example_gets_the_seeds_answer(api: Api) -> None:
    owner = await api.owner()
    created = await api.post("/outages", owner, json=SEED_CREATE)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["message"] == "Outage created successfully"
    assert body["site_name"] == "Cell Tower Beta" and body["id"].startswith("out_")
    assert body["detected_at"].endswith("Z") and body["status"] == "open"
    assert body["services_affected"] == ["4G"] and body["affected_subscribers"] == 500


# "Update an existing outage", as the seed documents it.
SEED_RESOLVE = {
    "status": "resolved",
    "resolved_at": "2026-01-16T10:40:00Z",
    "root_cause": "Fiber cut",
    "resolution_notes": "Fiber repaired, services restored",
}


async def test_the_seeds_update_example_resolves_through_put_and_patch(api: Api) -> None:
    """Sent today, the seed's January `resolved_at` is a claim the clock does not bear out:
    the outage resolves on the clock and the 25 minutes wait for a second person, whose
    approval makes them the outcome."""
    owner = await api.owner()
    approver = await api.member(owner, "admin")
    for method in (api.put, api.patch):
        seed_create = {**SEED_CREATE, "detected_at": "2026-01-16T10:15:00Z"}
        outage = (await api.post("/outages", owner, json=seed_create)).json()
        updated = await method(f"/outages/{outage['id']}", owner, json=SEED_RESOLVE)
        assert updated.status_code == 200, updated.text
        body = updated.json()
        assert (body["id"], body["status"]) == (outage["id"], "resolved")
        assert body["message"] == "Outage updated successfully"
        assert body["sla_triggered"] is True
        # The resolve of POST .../resolve: the clock, the claim, the SLA result, timeline.
        assert body["mttr_source"] == "clock" and body["mttr_minutes"] > 25
        (claim,) = body["overrides"]
        assert claim["claimed_mttr_minutes"] == 25
        assert claim["claimed_resolved_at"] == "2026-01-16T10:40:00Z"
        assert body["root_cause"] == "Fiber cut"
        assert "resolved" in [entry["event"] for entry in body["timeline"]]
        await approve_claims(api, approver, outage["id"])
        result = (await api.get(f"/sla/results/{outage['id']}", owner)).json()
        assert (result["status"], result["mttr_minutes"]) == ("met", 25)
        assert result["mttr_source"] == "approved_override"
        again = await method(f"/outages/{outage['id']}", owner, json=SEED_RESOLVE)
        assert again.status_code == 409, again.text


async def test_a_plain_update_is_not_a_resolution(api: Api) -> None:
    owner = await api.owner()
    outage = (await api.post("/outages", owner, json=SEED_CREATE)).json()
    changed = await api.patch(f"/outages/{outage['id']}", owner, json={"severity": "critical"})
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["status"], body["sla_triggered"], body["sla_result"]) == ("open", False, None)
    assert body["message"] == "Outage updated successfully"
    stray = await api.patch(f"/outages/{outage['id']}", owner, json={"root_cause": "Fiber cut"})
    assert stray.status_code == 422, stray.text
    assert "only go with status 'resolved'" in stray.text
    after = (await api.get(f"/outages/{outage['id']}", owner)).json()
    assert (after["status"], after["root_cause"]) == ("open", None)
