"""Seed 001's next step, as a user sees it: an incident is triaged when it is reported, the
seed's investigation path works, and people move an incident through its lifecycle
(`PATCH /incidents/{id}`), linking the outage it is about."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from app.core.clock import utcnow
from app.core.ids import new_id
from app.core.tenancy import system_session
from app.faults.models import Fault
from app.incidents.service import id_floor
from app.journal.models import DomainEvent
from tests.faults.test_faults import report
from tests.helpers import Api, Session, assert_error
from tests.incidents.test_incidents import SEED

INVESTIGATION_STARTED = {"id", "incident_id", "status", "investigations_remaining"}


async def _report(api: Api, who: Session, **fields: Any) -> str:
    response = await api.post("/incidents/chat", who, json={**SEED, **fields})
    assert response.status_code == 201, response.text
    return str(response.json()["incidentId"])


async def _patch(api: Api, who: Session, incident_id: str, **body: Any) -> dict[str, Any]:
    response = await api.patch(f"/incidents/{incident_id}", who, json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def _events(app: Any, entity_id: str) -> list[tuple[str, dict[str, Any]]]:
    """What a webhook subscriber to every event would be sent about this incident, in order."""
    async with system_session(app.state.database, "test inspection") as session:
        rows = await session.execute(
            select(DomainEvent.event_type, DomainEvent.data)
            .where(DomainEvent.entity_id == entity_id)
            .order_by(DomainEvent.id)
        )
        return [(kind, dict(data)) for kind, data in rows]


async def _outage(api: Api, who: Session, **fields: Any) -> dict[str, Any]:
    body = {"site_name": "EU-West", "severity": "high", "services_affected": ["checkout"]}
    response = await api.post("/outages", who, json={**body, **fields})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_the_seed_walk_reports_then_investigates_at_the_seed_path(app: Any, api: Api) -> None:
    owner = await api.owner()
    # The seed's example, unchanged: `POST /v1/incidents/chat`.
    created = await api.post("/incidents/chat", owner, json=SEED)
    assert created.status_code == 201, created.text
    incident = created.json()
    # Triaged before the answer: 503s, errors, timeouts and EU customers are `high` (no
    # critical phrase: it is one region, not "down" or "all customers").
    assert (incident["severity"], incident["status"]) == ("high", "open")
    # Then the seed's `POST /v1/investigation/`, trailing slash and all.
    body = {"incident_id": incident["incidentId"]}
    seed_path = await api.post("/investigation/", owner, json=body)
    assert seed_path.status_code == 202, seed_path.text
    started = seed_path.json()
    assert set(started) == INVESTIGATION_STARTED
    assert started["incident_id"] == incident["incidentId"] and started["status"] == "queued"
    assert started["investigations_remaining"] == incident["investigationsRemaining"] - 1
    # Without the slash, and the plural path: the same operation, the same answer.
    for path in ("/investigation", "/investigations"):
        same = await api.post(path, owner, json=body)
        assert same.status_code == 202, same.text
        assert set(same.json()) == INVESTIGATION_STARTED
    assert (await api.get("/usage", owner)).json()["investigations"]["used"] == 3
    shown = (await api.get(f"/incidents/{incident['incidentId']}", owner)).json()
    assert shown["status"] == "investigating"
    await app.state.executor.drain()
    found = (await api.get(f"/investigations/{started['id']}", owner)).json()
    assert found["status"] == "completed" and found["findings"]["hypotheses"]
    causes = [h["cause"] for h in found["findings"]["hypotheses"]]
    assert "A recent change (deployment or upgrade)" in causes


async def test_the_seed_path_refuses_as_the_plural_one_does_and_honours_idempotency(
    api: Api,
) -> None:
    owner = await api.owner()
    incident_id = await _report(api, owner)
    viewer, stranger = await api.member(owner, "viewer"), await api.owner()
    for path in ("/investigation/", "/investigation"):
        unknown = await api.post(path, owner, json={"incident_id": "inc_" + "0" * 26})
        assert_error(unknown, 404, "NOT_FOUND")
        assert_error(await api.post(path, owner, json={}), 422, "VALIDATION_ERROR")
        refused = await api.post(path, viewer, json={"incident_id": incident_id})
        assert_error(refused, 403, "FORBIDDEN")
        hidden = await api.post(path, stranger, json={"incident_id": incident_id})
        assert_error(hidden, 404, "NOT_FOUND")
    headers = {"Idempotency-Key": "seed-investigation-1"}
    body = {"incident_id": incident_id}
    first = await api.post("/investigation/", owner, json=body, headers=headers)
    replay = await api.post("/investigation/", owner, json=body, headers=headers)
    assert first.status_code == replay.status_code == 202
    assert replay.json() == first.json() and replay.headers["Idempotent-Replayed"] == "true"
    assert (await api.get("/usage", owner)).json()["investigations"]["used"] == 1


async def test_intake_triages_in_the_same_transaction_and_says_so(app: Any, api: Api) -> None:
    owner = await api.owner()
    outage = await _outage(api, owner)
    incident_id = await _report(api, owner)
    shown = (await api.get(f"/incidents/{incident_id}", owner)).json()
    assert shown["severity"] == "high" and shown["services"] == ["checkout", "payment"]
    assert shown["status"] == "open" and shown["triaged_at"]
    assert {"503", "errors", "timeouts", "eu customers"} <= set(
        shown["triage"]["rules_matched"]["high"]
    )
    assert shown["triage"]["linked_outages"] == [outage["id"]]
    events = await _events(app, incident_id)
    assert [kind for kind, _ in events] == ["incident.created", "incident.triaged"]
    assert events[0][1]["severity"] == "high"  # the created event already carries the triage
    assert events[1][1]["linked_outages"] == [outage["id"]]
    # The rules' other answers, straight from intake.
    calm = await api.post(
        "/incidents/chat", owner, json={"title": "Odd report", "description": "Something odd."}
    )
    assert calm.json()["severity"] == "medium"
    total = await api.post(
        "/incidents/chat",
        owner,
        json={"title": "Total outage", "description": "All customers are down nationwide."},
    )
    assert total.json()["severity"] == "critical"


async def test_triage_links_only_the_last_day_of_faults(app: Any, api: Api) -> None:
    owner = await api.owner()
    old = await report(api, owner, type="checkout", resource_id="lb_old", severity="LOW")
    fresh = await report(api, owner, type="checkout", resource_id="lb_new", severity="LOW")
    async with system_session(app.state.database, "test backdating") as session:
        await session.execute(
            update(Fault)
            .where(Fault.id == old["id"])
            .values(created_at=utcnow() - timedelta(days=2))
        )
        await session.commit()
    shown = (await api.get(f"/incidents/{await _report(api, owner)}", owner)).json()
    assert shown["triage"]["linked_faults"] == [fresh["id"]]


def test_an_id_floor_is_the_smallest_id_of_its_moment() -> None:
    before = utcnow()
    made = new_id("flt")
    assert id_floor("flt", before - timedelta(milliseconds=1)) <= made
    assert made < id_floor("flt", utcnow() + timedelta(milliseconds=2))
    assert len(id_floor("flt", before)) == len(made) == 30


async def test_an_incident_moves_through_its_lifecycle(app: Any, api: Api) -> None:
    owner = await api.owner()
    me = owner.user["id"]
    incident_id = await _report(api, owner)
    working = await _patch(api, owner, incident_id, status="investigating")
    assert working["status"] == "investigating" and working["resolved_at"] is None
    resolved = await _patch(api, owner, incident_id, status="resolved")
    assert resolved["status"] == "resolved" and resolved["resolved_by"] == me
    assert resolved["resolved_at"] and resolved["closed_at"] is None
    # The fix did not hold: reopened, the resolution is gone (the audit keeps it).
    reopened = await _patch(api, owner, incident_id, status="open")
    assert (reopened["status"], reopened["resolved_at"], reopened["resolved_by"]) == (
        "open",
        None,
        None,
    )
    await _patch(api, owner, incident_id, status="resolved", severity="critical")
    closed = await _patch(api, owner, incident_id, status="closed")
    assert closed["status"] == "closed" and closed["closed_by"] == me
    assert closed["closed_at"] >= closed["resolved_at"] and closed["severity"] == "critical"
    assert (await api.get(f"/incidents/{incident_id}", owner)).json() == closed
    # Closed is final: any change is refused, a retried close is not.
    for change in ({"status": "open"}, {"title": "Another title"}, {"severity": "low"}):
        refused = await api.patch(f"/incidents/{incident_id}", owner, json=change)
        assert_error(refused, 409, "CONFLICT")
    assert await _patch(api, owner, incident_id, status="closed") == closed
    assert_error(await api.post(f"/incidents/{incident_id}/triage", owner), 409, "CONFLICT")
    kinds = [kind for kind, _ in await _events(app, incident_id)]
    assert kinds[2:] == [
        "incident.updated",
        "incident.resolved",
        "incident.updated",
        "incident.resolved",
        "incident.closed",
    ]
    audit = (await api.get("/audit", owner, params={"event_type": "incident.resolved"})).json()
    rows = [row for row in audit["results"] if row["entity_id"] == incident_id]
    assert len(rows) == 2 and all(row["actor_id"] == me for row in rows)
    assert rows[0]["data"]["changes"]["severity"] == {"from": "high", "to": "critical"}
    assert rows[0]["data"]["changes"]["status"] == {"from": "open", "to": "resolved"}


async def test_an_unresolved_incident_may_be_closed_at_once(api: Api) -> None:
    owner = await api.owner()
    incident_id = await _report(api, owner)
    closed = await _patch(api, owner, incident_id, status="closed")
    assert closed["status"] == "closed" and closed["closed_at"] and closed["resolved_at"] is None


async def test_an_update_changes_only_what_it_names(api: Api) -> None:
    owner = await api.owner()
    incident_id = await _report(api, owner)
    before = (await api.get(f"/incidents/{incident_id}", owner)).json()
    assert await _patch(api, owner, incident_id) == before  # nothing named, nothing written
    assert await _patch(api, owner, incident_id, status="open", severity="high") == before
    edited = await _patch(api, owner, incident_id, title="Checkout 503s (EU)")
    assert edited["title"] == "Checkout 503s (EU)" and edited["description"] == SEED["description"]
    assert edited["status"] == "open" and edited["updated_at"] > before["updated_at"]


async def test_an_incident_links_an_outage_of_its_own_organization_only(api: Api) -> None:
    owner = await api.owner()
    incident_id = await _report(api, owner)
    outage = await _outage(api, owner)
    linked = await _patch(api, owner, incident_id, outage_id=outage["id"])
    assert linked["outage_id"] == outage["id"]
    assert (await api.get(f"/incidents/{incident_id}", owner)).json()["outage_id"] == outage["id"]
    stranger = await api.owner()
    theirs = await _outage(api, stranger)
    for missing in (theirs["id"], "out_" + "0" * 26):
        refused = await api.patch(f"/incidents/{incident_id}", owner, json={"outage_id": missing})
        error = assert_error(refused, 404, "NOT_FOUND")
        assert error["details"] == {"field": "outage_id"}
    too_long = await api.patch(f"/incidents/{incident_id}", owner, json={"outage_id": "x" * 65})
    assert_error(too_long, 422, "VALIDATION_ERROR")
    assert (await api.get(f"/incidents/{incident_id}", owner)).json()["outage_id"] == outage["id"]
    unlinked = await _patch(api, owner, incident_id, outage_id=None)
    assert unlinked["outage_id"] is None
    # A resolved outage can still be named as the cause.
    await api.post(f"/outages/{outage['id']}/resolve", owner, json={})
    relinked = await _patch(api, owner, incident_id, outage_id=outage["id"], status="resolved")
    assert (relinked["outage_id"], relinked["status"]) == (outage["id"], "resolved")


async def test_malformed_updates_are_refused(api: Api) -> None:
    owner = await api.owner()
    incident_id = await _report(api, owner)
    for body in (
        {"status": "triaged"},
        {"status": None},
        {"severity": "severe"},
        {"title": ""},
        {"description": "too short"},
        {"outage_id": 7},
        {"organization_id": "org_x"},
    ):
        refused = await api.patch(f"/incidents/{incident_id}", owner, json=body)
        assert_error(refused, 422, "VALIDATION_ERROR")
    missing = await api.patch(f"/incidents/inc_{'0' * 26}", owner, json={"status": "closed"})
    assert_error(missing, 404, "NOT_FOUND")


async def test_who_may_change_an_incident(api: Api) -> None:
    owner = await api.owner()
    incident_id = await _report(api, owner)
    path = f"/incidents/{incident_id}"
    for role in ("viewer", "engineer"):
        member = await api.member(owner, role)
        assert (await api.get(path, member)).status_code == 200
        refused = await api.patch(path, member, json={"status": "investigating"})
        assert_error(refused, 403, "FORBIDDEN")
    operator = await api.member(owner, "operator")
    assert (await _patch(api, operator, incident_id, status="investigating"))["status"] == (
        "investigating"
    )
    key = (await api.post("/api-keys", owner, json={"name": "pager", "role": "operator"})).json()
    by_key = await api.patch(path, json={"status": "resolved"}, headers={"X-API-Key": key["key"]})
    assert by_key.status_code == 200 and by_key.json()["resolved_by"] == key["id"]
    stranger = await api.owner()
    assert_error(await api.patch(path, stranger, json={"status": "closed"}), 404, "NOT_FOUND")
    assert (await api.get(path, owner)).json()["status"] == "resolved"
    assert_error(await api.patch(path, json={"status": "closed"}), 401, "UNAUTHORIZED")


async def test_an_investigation_leaves_a_resolved_incident_resolved(api: Api) -> None:
    owner = await api.owner()
    incident_id = await _report(api, owner)
    await _patch(api, owner, incident_id, status="resolved")
    started = await api.post("/investigation", owner, json={"incident_id": incident_id})
    assert started.status_code == 202, started.text
    assert (await api.get(f"/incidents/{incident_id}", owner)).json()["status"] == "resolved"
