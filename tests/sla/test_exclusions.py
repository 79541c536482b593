"""Maintenance windows and clock pauses: time that does not count towards MTTR, and faults a
window keeps from opening outages (issue 23)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from app.core.clock import isoformat, utcnow
from app.core.tenancy import system_session
from app.maintenance.models import MaintenanceWindow
from tests.faults.test_faults import SEED, report
from tests.helpers import Api, Session, assert_error, make_app, make_client
from tests.outages.conftest import new_outage


def _ago(minutes: float) -> str:
    return isoformat(utcnow() - timedelta(minutes=minutes))


async def _book(api: Api, who: Session, **fields: Any) -> dict[str, Any]:
    body = {"name": "Power works", "starts_at": _ago(0), "ends_at": _ago(-60), **fields}
    response = await api.post("/maintenance-windows", who, json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _critical(n: int, site: str) -> dict[str, Any]:
    return {
        **SEED,
        "resource_id": f"{site}-dev-{n}",
        "severity": "CRITICAL",
        "resource_ancestry_path": f"region-1|{site}|{site}-dev-{n}",
    }


async def test_a_window_suppresses_a_storm_of_faults(api: Api) -> None:
    owner = await api.owner()
    window = await _book(api, owner, sites=["site-north"])
    assert window["status"] == "active" and window["sites"] == ["site-north"]
    storm = [_critical(n, "site-north") for n in range(300)]
    batch = await api.post("/faults/batch", owner, json={"faults": storm})
    assert batch.status_code == 200, batch.text
    assert batch.json()["created"] == 300
    assert {r["fault"]["maintenance_window_id"] for r in batch.json()["results"]} == {window["id"]}
    assert all(
        r["fault"]["suppressed"] and r["fault"]["outage_id"] is None
        for r in batch.json()["results"]
    )
    single = await report(api, owner, **_critical(999, "site-north"))
    assert single["suppressed"] and single["outage_id"] is None
    assert (await api.get("/outages", owner)).json()["total"] == 0
    suppressed = await api.get("/faults", owner, params={"suppressed": "true", "limit": 1})
    assert suppressed.json()["total"] == 301

    # Another site is not covered: its storm opens its outage as ever.
    other = await report(api, owner, **_critical(1, "site-south"))
    assert not other["suppressed"] and other["outage_id"] is not None

    # Ended early: the next critical fault on the site opens an outage again.
    ended = await api.post(f"/maintenance-windows/{window['id']}/end", owner)
    assert ended.status_code == 200 and ended.json()["status"] == "ended"
    after = await report(api, owner, **_critical(1000, "site-north"))
    assert not after["suppressed"] and after["outage_id"] is not None


async def test_windows_are_booked_ahead_and_cancelled_only_before_they_start(api: Api) -> None:
    owner = await api.owner()
    engineer = await api.member(owner, "engineer")
    body = {"name": "x", "starts_at": _ago(-10), "ends_at": _ago(-70)}
    assert_error(await api.post("/maintenance-windows", engineer, json=body), 403, "FORBIDDEN")
    late = {"name": "after the fact", "starts_at": _ago(30), "ends_at": _ago(-30)}
    refused = await api.post("/maintenance-windows", owner, json=late)
    assert_error(refused, 422, "VALIDATION_ERROR")
    backwards = {"name": "x", "starts_at": _ago(-20), "ends_at": _ago(-10)}
    assert_error(
        await api.post("/maintenance-windows", owner, json=backwards), 422, "VALIDATION_ERROR"
    )
    scheduled = await _book(api, owner, starts_at=_ago(-10), ends_at=_ago(-70))
    assert scheduled["status"] == "scheduled" and scheduled["sites"] is None
    cancelled = await api.delete(f"/maintenance-windows/{scheduled['id']}", owner)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    running = await _book(api, owner)
    assert_error(await api.delete(f"/maintenance-windows/{running['id']}", owner), 409, "CONFLICT")
    listed = (await api.get("/maintenance-windows", owner, params={"status": "active"})).json()
    assert [w["id"] for w in listed["results"]] == [running["id"]]
    north = await _book(api, owner, sites=["North", 'Gate "7"'], starts_at=_ago(-5))
    for site, expected in (("North", 3), ('Gate "7"', 3), ("South", 2)):
        found = (await api.get("/maintenance-windows", owner, params={"site": site})).json()
        assert found["total"] == expected, (site, found)  # every-site windows cover it too
    assert north["sites"] == ['Gate "7"', "North"]
    stranger = await api.owner()
    assert_error(await api.get(f"/maintenance-windows/{running['id']}", stranger), 404, "NOT_FOUND")


@pytest.fixture
async def lenient_app() -> AsyncIterator[Any]:
    app = make_app(
        mttr_claim_tolerance_minutes=30, clock_pause_approval_minutes=10, rate_limit_enabled=False
    )
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def lenient(lenient_app: Any) -> AsyncIterator[Api]:
    """An instance whose tolerance lets a window or a pause start 30 minutes back, so a test
    can have an outage spend time inside one without waiting for it; pauses over 10 minutes
    need approval."""
    async with make_client(lenient_app) as http:
        yield Api(http)


async def _booked_ago(app: Any, window_id: str, minutes: float) -> None:
    """The window was booked that long ago (the service only ever records now)."""
    async with system_session(app.state.database, "test: booked earlier") as session:
        await session.execute(
            update(MaintenanceWindow)
            .where(MaintenanceWindow.id == window_id)
            .values(created_at=utcnow() - timedelta(minutes=minutes))
        )
        await session.commit()


async def test_outage_time_inside_a_window_of_its_site_does_not_count(
    lenient: Api, lenient_app: Any
) -> None:
    api = lenient
    owner = await api.owner()
    booked = await _book(api, owner, sites=["Tower X"], starts_at=_ago(22), ends_at=_ago(2))
    other = await _book(api, owner, sites=["Tower Y"], starts_at=_ago(24), ends_at=_ago(0))
    for window in (booked, other):
        await _booked_ago(lenient_app, window["id"], 30)  # planned before the outage
    outage = await new_outage(api, owner, site_name="Tower X", detected_at=_ago(25))
    live = (await api.get(f"/outages/{outage['id']}", owner)).json()["sla_status"]
    assert live["elapsed_minutes"] in (4, 5) and live["status"] == "in_progress"
    listed = (await api.get("/outages", owner)).json()["results"][0]["sla_status"]
    assert listed["elapsed_minutes"] == live["elapsed_minutes"]
    body = (await api.post(f"/outages/{outage['id']}/resolve", owner, json={})).json()
    # 25 minutes detected, 20 in the window: 5 count. Critical (15): met, not violated.
    assert body["measured_mttr_minutes"] in (5, 6) and body["excluded_minutes"] == 20
    assert body["sla_result"]["status"] == "met" and body["sla_result"]["excluded_minutes"] == 20


async def test_a_list_page_shows_each_live_clock_as_its_detail_does(
    lenient: Api, lenient_app: Any
) -> None:
    """The page reads its open outages' pauses and windows with its rows (PostgreSQL): each
    row's clock holds what is its own and nothing of its neighbours'."""
    api = lenient
    owner = await api.owner()
    engineer = await api.member(owner, "engineer")
    window = await _book(api, owner, sites=["Tower W"], starts_at=_ago(22), ends_at=_ago(2))
    await _booked_ago(lenient_app, window["id"], 30)
    in_window = await new_outage(api, engineer, site_name="Tower W", detected_at=_ago(25))
    paused = await new_outage(api, engineer, site_name="Tower P", detected_at=_ago(25))
    plain = await new_outage(api, engineer, site_name="Tower N", detected_at=_ago(25))
    started = await api.post(
        f"/outages/{paused['id']}/pauses",
        engineer,
        json={"reason": "Waiting for site access", "started_at": _ago(20)},
    )
    assert started.status_code == 201, started.text
    listed = {
        row["id"]: row["sla_status"] for row in (await api.get("/outages", owner)).json()["results"]
    }
    for outage, counted in ((in_window, (4, 5)), (paused, (4, 5)), (plain, (24, 25, 26))):
        detail = (await api.get(f"/outages/{outage['id']}", owner)).json()["sla_status"]
        assert detail["elapsed_minutes"] in counted
        assert listed[outage["id"]]["elapsed_minutes"] == detail["elapsed_minutes"]


async def test_a_pause_changes_the_outcome_once_approved(lenient: Api) -> None:
    api = lenient
    owner = await api.owner()
    engineer = await api.member(owner, "engineer")
    outage = await new_outage(api, engineer, detected_at=_ago(25))
    started = await api.post(
        f"/outages/{outage['id']}/pauses",
        engineer,
        json={"reason": "Waiting for site access", "started_at": _ago(20)},
    )
    assert started.status_code == 201, started.text
    pause = started.json()
    assert pause["status"] == "active" and pause["started_by"] == engineer.user["id"]
    second = await api.post(f"/outages/{outage['id']}/pauses", engineer, json={"reason": "again"})
    assert_error(second, 409, "CONFLICT")
    live = (await api.get(f"/outages/{outage['id']}", engineer)).json()
    assert live["sla_status"]["elapsed_minutes"] in (4, 5)  # the running pause holds it
    ended = await api.post(
        f"/outages/{outage['id']}/pauses/{pause['id']}/end", engineer, json={"ended_at": _ago(5)}
    )
    assert ended.json()["status"] == "pending" and ended.json()["approval_reason"] == "long"

    body = (await api.post(f"/outages/{outage['id']}/resolve", engineer, json={})).json()
    # Until approved the pause does not count: 25 minutes, violated, and nothing is paid.
    assert body["sla_result"]["status"] == "violated" and body["measured_mttr_minutes"] >= 25
    assert body["settlement_hold"] == "awaiting_pause_approval" and body["payment"] is None
    assert [p["status"] for p in body["pauses"]] == ["pending"]

    path = f"/outages/{outage['id']}/pauses/{pause['id']}"
    assert_error(await api.post(f"{path}/approve", engineer, json={}), 403, "FORBIDDEN")
    approved = await api.post(f"{path}/approve", owner, json={"notes": "Landlord's log"})
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    detail = (await api.get(f"/outages/{outage['id']}", owner)).json()
    result = detail["sla_result"]
    assert detail["measured_mttr_minutes"] in (10, 11) and detail["excluded_minutes"] == 15
    assert (result["status"], result["trigger"], result["mttr_source"]) == ("met", "pause", "clock")
    assert detail["settlement_hold"] is None and detail["payment"]["type"] == "reward"
    events = [e["event"] for e in detail["timeline"]]
    assert {"clock_paused", "clock_resumed", "pause_approved"} <= set(events)
    assert_error(await api.post(f"{path}/reject", owner, json={}), 409, "CONFLICT")


async def test_short_pauses_count_and_resolving_ends_a_running_one(api: Api) -> None:
    owner = await api.owner()
    outage = await new_outage(api, owner)
    first = (
        await api.post(f"/outages/{outage['id']}/pauses", owner, json={"reason": "No access"})
    ).json()
    ended = await api.post(f"/outages/{outage['id']}/pauses/{first['id']}/end", owner, json={})
    assert ended.json()["status"] == "counted"
    running = (
        await api.post(f"/outages/{outage['id']}/pauses", owner, json={"reason": "Customer"})
    ).json()
    resolved = (await api.post(f"/outages/{outage['id']}/resolve", owner, json={})).json()
    assert [p["status"] for p in resolved["pauses"]] == ["counted", "counted"]
    assert resolved["pauses"][1]["id"] == running["id"] and resolved["pauses"][1]["ended_at"]
    late = await api.post(f"/outages/{outage['id']}/pauses", owner, json={"reason": "late"})
    assert_error(late, 409, "CONFLICT")
    queue = (await api.get("/sla/pauses", owner, params={"status": "counted"})).json()
    assert queue["total"] == 2


async def test_a_backdated_pause_waits_for_approval(api: Api) -> None:
    owner = await api.owner()
    outage = await new_outage(api, owner, detected_at=_ago(10))
    pause = (
        await api.post(
            f"/outages/{outage['id']}/pauses",
            owner,
            json={"reason": "Gate locked", "started_at": _ago(5)},
        )
    ).json()
    ended = await api.post(f"/outages/{outage['id']}/pauses/{pause['id']}/end", owner, json={})
    assert (ended.json()["status"], ended.json()["approval_reason"]) == ("pending", "backdated")
    early = {"reason": "x", "started_at": _ago(20)}
    assert_error(
        await api.post(f"/outages/{outage['id']}/pauses", owner, json=early),
        422,
        "VALIDATION_ERROR",
    )
