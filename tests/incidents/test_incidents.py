"""Incident intake (the seed's request and response), quotas, triage and investigations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app.incidents import similarity, triage
from tests.faults.test_faults import report
from tests.helpers import Api, Session, assert_error, make_app, make_client

SEED = {
    "title": "Checkout service returning 503 for EU customers",
    "description": (
        "Since approximately 14:30 UTC, our checkout service has been returning HTTP 503 errors "
        "for all requests originating from EU data centers. Logs show connection timeouts to the "
        "payment processor gateway. Initial investigation suggests the issue started after the "
        "14:25 UTC deployment of checkout-service v2.4.1."
    ),
}


async def chat(api: Api, who: Any, **fields: Any) -> dict[str, Any]:
    response = await api.post("/incidents/chat", who, json={**SEED, **fields})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_create_answers_exactly_the_seed_shape(api: Api) -> None:
    owner = await api.owner()
    body = await chat(api, owner)
    assert set(body) == {
        "incidentId",
        "title",
        "severity",
        "status",
        "source",
        "investigationsRemaining",
        "eventsRemaining",
    }
    assert body["incidentId"].startswith("inc_") and len(body["incidentId"]) == 30
    # Triaged on intake: the seed's text names 503s, errors, timeouts and EU customers.
    assert (body["severity"], body["status"], body["source"]) == ("high", "open", "manual")
    assert (body["eventsRemaining"], body["investigationsRemaining"]) == (499, 50)
    usage = (await api.get("/usage", owner)).json()
    assert usage["plan"] == "standard" and usage["events"] == {
        "limit": 500,
        "used": 1,
        "remaining": 499,
    }


async def test_bad_input_and_roles_are_refused(api: Api) -> None:
    owner = await api.owner()
    for fields in ({"description": "x" * 9}, {"description": "x" * 4001}, {"title": ""}):
        refused = await api.post("/incidents/chat", owner, json={**SEED, **fields})
        assert_error(refused, 422, "VALIDATION_ERROR")
    assert_error(
        await api.post("/incidents/chat", owner, json={"title": "x"}), 422, "VALIDATION_ERROR"
    )
    engineer = await api.member(owner, "engineer")
    assert_error(await api.post("/incidents/chat", engineer, json=SEED), 403, "FORBIDDEN")
    operator = await api.member(owner, "operator")
    assert (await api.post("/incidents/chat", operator, json=SEED)).status_code == 201
    key = (await api.post("/api-keys", owner, json={"name": "pager", "role": "operator"})).json()
    headers = {"X-API-Key": key["key"]}
    assert (await api.post("/incidents/chat", json=SEED, headers=headers)).status_code == 201
    await api.delete(f"/api-keys/{key['id']}", owner)
    assert_error(await api.post("/incidents/chat", json=SEED, headers=headers), 401, "UNAUTHORIZED")


async def test_the_monthly_event_quota_is_enforced() -> None:
    app = make_app(quota_plans={"standard": {"events": 2, "investigations": 1}})
    async with make_client(app) as http:
        api = Api(http)
        owner = await api.owner()
        assert (await chat(api, owner))["eventsRemaining"] == 1
        last = await chat(api, owner)
        assert last["eventsRemaining"] == 0
        exhausted = await api.post("/incidents/chat", owner, json=SEED)
        error = assert_error(exhausted, 429, "event_quota_exceeded")
        assert error["details"]["limit"] == 2
        # Seconds to the next quota period (the first of next month, UTC).
        resets = datetime.fromisoformat(error["details"]["resets_at"].replace("Z", "+00:00"))
        assert resets.day == 1 and resets > datetime.now(UTC)
        wait = int(exhausted.headers["Retry-After"])
        assert abs(wait - (resets - datetime.now(UTC)).total_seconds()) < 60
        started = await api.post("/investigations", owner, json={"incident_id": last["incidentId"]})
        assert started.status_code == 202 and started.json()["investigations_remaining"] == 0
        again = await api.post("/investigations", owner, json={"incident_id": last["incidentId"]})
        assert_error(again, 429, "investigation_quota_exceeded")
        assert (await api.get("/incidents", owner)).json()["total"] == 2  # nothing partial
        other = await api.owner()  # quotas are per organization
        assert (await chat(api, other))["eventsRemaining"] == 1
    await app.state.database.dispose()


async def test_triage_classifies_and_links_open_outages_and_recent_faults(api: Api) -> None:
    owner = await api.owner()
    outage = (
        await api.post(
            "/outages",
            owner,
            json={"site_name": "EU-West", "severity": "high", "services_affected": ["checkout"]},
        )
    ).json()
    fault = await report(
        api,
        owner,
        type="checkout",
        resource_id="lb_1",
        severity="LOW",
        resource_ancestry_path="site_eu|lb_1",
    )
    incident = await chat(api, owner)
    body = (await api.get(f"/incidents/{incident['incidentId']}", owner)).json()
    assert body["severity"] == "high" and "checkout" in body["services"]
    assert "payment" in body["services"]
    assert outage["id"] in body["triage"]["linked_outages"]
    assert fault["id"] in body["triage"]["linked_faults"]
    assert body["status"] == "open" and body["triaged_at"]
    triaged = await api.post(f"/incidents/{incident['incidentId']}/triage", owner)
    assert triaged.status_code == 200, triaged.text
    again = triaged.json()  # re-running classifies again, the same text the same way
    assert (again["severity"], again["status"]) == ("high", "open")
    assert again["services"] == body["services"]
    assert again["triage"]["linked_outages"] == body["triage"]["linked_outages"]
    assert again["triaged_at"] >= body["triaged_at"]


async def test_an_investigation_finds_correlations_similar_cases_and_ranked_causes(
    app: Any, api: Api, owner: Session
) -> None:
    past = (
        await api.post(
            "/outages",
            owner,
            json={
                "site_name": "DC-1",
                "severity": "high",
                "services_affected": ["checkout"],
                "description": "checkout returning 503 after deployment of checkout-service",
            },
        )
    ).json()
    await api.post(
        f"/outages/{past['id']}/resolve",
        owner,
        json={
            "mttr_minutes": 40,
            "root_cause": "Bad deployment of checkout-service exhausted DB pool",
        },
    )
    fault = await report(
        api,
        owner,
        type="checkout",
        resource_id="gw_1",
        severity="HIGH",
        cause="payment gateway connection timeouts",
        resource_ancestry_path="site_eu|gw_1",
    )
    incident = await chat(api, owner)
    started = await api.post("/investigations", owner, json={"incident_id": incident["incidentId"]})
    assert started.status_code == 202 and started.json()["status"] == "queued"
    await app.state.executor.drain()
    found = (await api.get(f"/investigations/{started.json()['id']}", owner)).json()
    assert found["status"] == "completed" and found["completed_at"]
    findings = found["findings"]
    assert fault["id"] in [f["fault_id"] for f in findings["correlated_faults"]]
    similar = findings["similar_outages"]
    assert similar[0]["outage_id"] == past["id"] and similar[0]["root_cause"].startswith(
        "Bad deploy"
    )
    causes = [h["cause"] for h in findings["hypotheses"]]
    assert "payment gateway connection timeouts" in causes
    assert "Bad deployment of checkout-service exhausted DB pool" in causes
    assert all(h["evidence"] for h in findings["hypotheses"])
    assert [h["score"] for h in findings["hypotheses"]] == sorted(
        (h["score"] for h in findings["hypotheses"]), reverse=True
    )
    shown = (await api.get(f"/incidents/{incident['incidentId']}", owner)).json()
    assert shown["status"] == "investigating"  # started on an open incident


async def test_another_organizations_incident_cannot_be_investigated_or_read(api: Api) -> None:
    owner = await api.owner()
    incident = await chat(api, owner)
    stranger = await api.owner()
    refused = await api.post(
        "/investigations", stranger, json={"incident_id": incident["incidentId"]}
    )
    assert_error(refused, 404, "NOT_FOUND")
    assert_error(await api.get(f"/incidents/{incident['incidentId']}", stranger), 404, "NOT_FOUND")
    assert (await api.get("/usage", stranger)).json()["investigations"]["used"] == 0


def test_triage_rules_and_similarity_are_pure() -> None:
    assert (
        triage.classify("Total outage", "All customers down in the north region").severity
        == "critical"
    )
    assert (
        triage.classify("Typo on status page", "A minor cosmetic issue on the page").severity
        == "low"
    )
    assert triage.classify("Something odd", "Users report something odd today").severity == "medium"
    assert triage.classify("x", "the 5g cell and dns", ["radio-x"]).services == ["5g", "dns"]
    scores = similarity.rank(
        "fiber cut on backhaul", ["backhaul fiber was cut by works", "billing bug"]
    )
    assert scores[0] > 0.3 > scores[1]
