"""Creating, reading, listing, updating outages, and what each step leaves behind."""

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app.core.clock import isoformat, utcnow
from app.core.tenancy import system_session
from app.journal.models import DomainEvent
from tests.helpers import Api, Session, assert_error
from tests.outages.conftest import new_outage


async def _events(app: Any, entity_id: str) -> list[str]:
    async with system_session(app.state.database, "test inspection") as session:
        rows = await session.execute(
            select(DomainEvent.event_type)
            .where(DomainEvent.entity_id == entity_id)
            .order_by(DomainEvent.occurred_at, DomainEvent.id)
        )
        return list(rows.scalars())


async def test_create_returns_the_outage_open_with_its_clock(
    api: Api, engineer: Session, app: Any
) -> None:
    detected = utcnow() - timedelta(minutes=5)
    outage = await new_outage(
        api,
        engineer,
        detected_at=isoformat(detected),
        affected_services=["4G"],
        location={"latitude": 9.082, "longitude": 8.675},
    )
    assert outage["id"].startswith("out_") and len(outage["id"]) == 30
    assert outage["status"] == "open" and outage["services_affected"] == ["4G"]
    assert outage["location"] == {"latitude": 9.082, "longitude": 8.675}
    clock = outage["sla_status"]
    assert clock["status"] == "in_progress" and clock["threshold_minutes"] == 15
    assert clock["time_remaining_minutes"] in (9, 10)
    assert [e["event"] for e in outage["timeline"]] == ["created"]
    assert await _events(app, outage["id"]) == ["outage.created"]


async def test_create_is_audited(api: Api, owner: Session, engineer: Session) -> None:
    outage = await new_outage(api, engineer)
    rows = (await api.get("/audit", owner, params={"event_type": "outage.created"})).json()
    assert [r["entity_id"] for r in rows["results"]] == [outage["id"]]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("severity", "catastrophic"),
        ("severity", "SEVERE"),
        ("description", "x" * 5001),
        ("services_affected", [f"svc-{i}" for i in range(101)]),
        ("site_name", ""),
        ("site_name", "s" * 256),
        ("detected_at", "2026-01-16T09:30:00"),
        ("location", {"latitude": 91, "longitude": 0}),
        ("affected_subscribers", -1),
        ("organization_id", "org_01ABCDEFGHJKMNPQRSTVWXYZ00"),
        ("status", "resolved"),
    ],
)
async def test_bad_input_is_refused_and_nothing_is_written(
    api: Api, engineer: Session, field: str, value: Any
) -> None:
    body = {"site_name": "Tower", "severity": "high", field: value}
    response = await api.post("/outages", engineer, json=body)
    assert_error(response, 422, "VALIDATION_ERROR")
    assert (await api.get("/outages", engineer)).json()["total"] == 0


async def test_a_future_detection_time_is_refused(api: Api, engineer: Session) -> None:
    future = isoformat(utcnow() + timedelta(hours=1))
    response = await api.post(
        "/outages", engineer, json={"site_name": "T", "severity": "low", "detected_at": future}
    )
    assert_error(response, 422, "VALIDATION_ERROR")


async def test_viewers_read_but_do_not_write(api: Api, owner: Session) -> None:
    viewer = await api.member(owner, "viewer")
    await new_outage(api, owner)
    assert (await api.get("/outages", viewer)).json()["total"] == 1
    response = await api.post("/outages", viewer, json={"site_name": "T", "severity": "low"})
    assert_error(response, 403, "FORBIDDEN")


async def test_list_filters_and_pages(api: Api, engineer: Session) -> None:
    for i in range(3):
        await new_outage(api, engineer, site_name=f"Site {i}", severity="high")
    low = await new_outage(api, engineer, site_name="Site 9", severity="low")
    page = (await api.get("/outages", engineer, params={"limit": 2})).json()
    assert page["total"] == 4 and len(page["results"]) == 2 and page["has_next"]
    assert page["results"][0]["id"] == low["id"]  # newest first
    by_severity = (await api.get("/outages", engineer, params={"severity": "low"})).json()
    assert [o["id"] for o in by_severity["results"]] == [low["id"]]
    by_site = (await api.get("/outages", engineer, params={"site_name": "Site 1"})).json()
    assert by_site["total"] == 1
    active = (await api.get("/outages", engineer, params={"status": "active"})).json()
    assert active["total"] == 4
    for bad in (
        {"limit": 0},
        {"limit": -5},
        {"offset": -1},
        {"severity": "urgent"},
        {"start_date": "yesterday"},
    ):
        assert_error(await api.get("/outages", engineer, params=bad), 422, "VALIDATION_ERROR")


async def test_search_finds_words_in_site_and_description(api: Api, engineer: Session) -> None:
    fiber = await new_outage(
        api, engineer, site_name="Lagos Core", description="Fiber cut near the river crossing"
    )
    await new_outage(api, engineer, site_name="Abuja Edge", description="Power failure")
    hits = (await api.get("/outages/search", engineer, params={"q": "fiber river"})).json()
    assert [o["id"] for o in hits["results"]] == [fiber["id"]]
    by_site = (await api.get("/outages/search", engineer, params={"q": "abuja"})).json()
    assert by_site["total"] == 1
    none = (await api.get("/outages/search", engineer, params={"q": "' OR 1=1 --"})).json()
    assert none["total"] == 0
    huge = await api.get("/outages/search", engineer, params={"q": "x" * 10_000})
    assert_error(huge, 422, "VALIDATION_ERROR")


@pytest.mark.parametrize(
    ("cap", "dense"),
    [(1000, 100), (2, 100), (1000, 1)],
    ids=["few-matches", "more-than-the-cap", "common-in-the-newest"],
)
async def test_search_stays_in_the_tenant_and_combines_with_filters(
    api: Api, engineer: Session, cap: int, dense: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every way a search is answered on PostgreSQL: from the index's matches when they are at
    # most the cap, by walking the organization's outages newest first when they are more or
    # when the word is common among the newest.
    monkeypatch.setattr("app.lifecycle.router.SEARCH_TOTAL_CAP", cap)
    monkeypatch.setattr("app.lifecycle.listing.DENSE", dense)
    stranger = await api.owner()
    await new_outage(api, stranger, description="Fiber cut in someone else's network")
    low = await new_outage(api, engineer, severity="low", description="Fiber splice loss")
    critical = [
        await new_outage(api, engineer, severity="critical", description=f"Fiber cut {n}")
        for n in range(2)
    ]
    await new_outage(api, engineer, severity="critical", description="Power failure")
    found = (await api.get("/outages/search", engineer, params={"q": "fiber"})).json()
    newest_first = [critical[1]["id"], critical[0]["id"], low["id"]]
    assert [o["id"] for o in found["results"]] == newest_first
    assert (found["total"], found["total_exact"]) == ((3, True) if cap > 3 else (cap, False))
    params = {"q": "fiber cut", "severity": "critical", "limit": 1, "offset": 1}
    second = (await api.get("/outages/search", engineer, params=params)).json()
    assert [o["id"] for o in second["results"]] == [critical[0]["id"]]
    assert second["has_previous"] and not second["has_next"]
    theirs = (await api.get("/outages/search", stranger, params={"q": "fiber"})).json()
    assert theirs["total"] == 1 and "network" in theirs["results"][0]["description"]


async def test_update_escalation_and_assignment(api: Api, engineer: Session, app: Any) -> None:
    outage = await new_outage(api, engineer, severity="medium")
    response = await api.patch(
        f"/outages/{outage['id']}",
        engineer,
        json={
            "severity": "critical",
            "assigned_to": "usr_oncall",
            "affected_services": ["4G", "5G", "fiber"],
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["severity"] == "critical" and body["assigned_to"] == "usr_oncall"
    assert body["services_affected"] == ["4G", "5G", "fiber"]
    events = [e["event"] for e in body["timeline"]]
    assert events == ["created", "escalated", "assigned", "updated"]
    assert await _events(app, outage["id"]) == [
        "outage.created",
        "outage.escalated",
        "outage.assigned",
        "outage.updated",
    ]
    lower = await api.put(f"/outages/{outage['id']}", engineer, json={"severity": "low"})
    assert [e["event"] for e in lower.json()["timeline"]][-1] == "updated"  # not an escalation


async def test_resolved_outages_cannot_be_updated(api: Api, engineer: Session) -> None:
    outage = await new_outage(api, engineer)
    await api.post(f"/outages/{outage['id']}/resolve", engineer, json={"mttr_minutes": 10})
    response = await api.patch(f"/outages/{outage['id']}", engineer, json={"description": "x"})
    assert_error(response, 409, "CONFLICT")
    assert (await api.get(f"/outages/{outage['id']}", engineer)).json()["description"] == (
        "Total signal loss"
    )


async def test_another_organizations_outage_is_not_found(api: Api, engineer: Session) -> None:
    outage = await new_outage(api, engineer)
    stranger = await api.owner()
    oid = outage["id"]
    for call in (
        api.get(f"/outages/{oid}", stranger),
        api.patch(f"/outages/{oid}", stranger, json={"description": "mine now"}),
        api.post(f"/outages/{oid}/resolve", stranger, json={}),
        api.get(f"/outages/{oid}/timeline", stranger),
        api.get(f"/sla/status/{oid}", stranger),
    ):
        assert_error(await call, 404, "NOT_FOUND")
    assert (await api.get("/outages", stranger)).json()["total"] == 0
    assert (await api.get("/outages/search", stranger, params={"q": "signal"})).json()["total"] == 0
    assert (await api.get(f"/outages/{oid}", engineer)).json()["status"] == "open"


async def test_rca_on_resolved_outages_only(api: Api, engineer: Session) -> None:
    outage = await new_outage(api, engineer)
    rca = {
        "root_cause": "BGP route leak",
        "contributing_factors": ["maintenance overlap"],
        "remediation": "Filters hardened",
    }
    assert_error(
        await api.post(f"/outages/{outage['id']}/rca", engineer, json=rca), 409, "CONFLICT"
    )
    await api.post(f"/outages/{outage['id']}/resolve", engineer, json={"mttr_minutes": 10})
    added = await api.post(f"/outages/{outage['id']}/rca", engineer, json=rca)
    assert added.status_code == 200 and added.json()["root_cause"] == "BGP route leak"
    detail = (await api.get(f"/outages/{outage['id']}", engineer)).json()
    assert detail["rca"]["contributing_factors"] == ["maintenance overlap"]
    assert detail["root_cause"] == "BGP route leak"
    timeline = (await api.get(f"/outages/{outage['id']}/timeline", engineer)).json()
    assert timeline[-1]["event"] == "rca_added" and timeline[-1]["schema_version"] == 1


async def test_api_keys_may_report_outages(api: Api, owner: Session) -> None:
    key = (await api.post("/api-keys", owner, json={"name": "nms", "role": "engineer"})).json()
    response = await api.client.post(
        "/api/v1/outages",
        headers={"X-API-Key": key["key"]},
        json={"site_name": "Tower", "severity": "high"},
    )
    assert response.status_code == 201
    assert response.json()["created_by"] == key["id"]
    listing = await api.client.get("/api/v1/outages", headers={"X-API-Key": key["key"]})
    assert_error(listing, 401, "UNAUTHORIZED")
