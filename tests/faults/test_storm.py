"""What a storm looks like: the summary route and the coalesced `fault.storm` event."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.core.tenancy import system_session
from app.faults import storm
from app.journal.models import DomainEvent
from tests.faults.test_batch import _batch, _fault
from tests.helpers import Api, assert_error


async def _storm(api: Api, owner: Any, count: int) -> None:
    faults = [
        _fault(n, type="link-down", severity="CRITICAL" if n < 3 else "WARNING")
        for n in range(count)
    ]
    body = await _batch(api, owner, faults)
    assert body["created"] == count


async def test_the_summary_counts_new_faults_by_minute_site_and_type(api: Api) -> None:
    owner, other = await api.owner(), await api.owner()
    await _storm(api, owner, 120)
    again = await _batch(api, owner, [_fault(n, type="link-down") for n in range(10)])
    assert again["folded"] == 10
    seen = (await api.get("/faults/storm", owner, params={"minutes": 5})).json()
    assert seen["new_faults"] == 120 and sum(m["new_faults"] for m in seen["per_minute"]) == 120
    assert seen["top_types"] == [{"type": "link-down", "new_faults": 120}]
    assert {s["site"]: s["new_faults"] for s in seen["top_sites"]} == {
        "site_0": 40,
        "site_1": 40,
        "site_2": 40,
    }
    assert sorted(o["site"] for o in seen["outages_opened"]) == ["site_0", "site_1", "site_2"]
    quiet = (await api.get("/faults/storm", other)).json()
    assert (quiet["new_faults"], quiet["top_sites"], quiet["outages_opened"]) == (0, [], [])
    assert_error(
        await api.get("/faults/storm", owner, params={"minutes": 0}), 422, "VALIDATION_ERROR"
    )


async def test_one_storm_event_per_stormy_organization_per_minute(api: Api, app: Any) -> None:
    stormy, calm = await api.owner(), await api.owner()
    await _storm(api, stormy, storm.STORM_MIN_FAULTS + 5)
    await _storm(api, calm, 5)
    database = app.state.database
    assert await storm.sweep(database) == 1
    assert await storm.sweep(database) == 0  # told already within the window
    async with system_session(database, "test") as session:
        events = (
            (
                await session.execute(
                    select(DomainEvent).where(DomainEvent.event_type == "fault.storm")
                )
            )
            .scalars()
            .all()
        )
    assert [e.organization_id for e in events] == [stormy.organization_id]
    assert events[0].data["new_faults"] == storm.STORM_MIN_FAULTS + 5
    # Subscribers may ask for it by name.
    catalog = (await api.get("/webhooks/events", stormy)).json()
    assert "fault.storm" in catalog["events"]
