"""The SLA clock sweep: at-risk and violated notices, once each."""

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from app.core.clock import isoformat, utcnow
from app.core.tenancy import system_session
from app.journal.models import DomainEvent
from app.sla.clock import sweep
from tests.helpers import Api
from tests.outages.conftest import new_outage


async def _events(app: Any) -> list[tuple[str, str]]:
    async with system_session(app.state.database, "test inspection") as session:
        rows = await session.execute(
            select(DomainEvent.entity_id, DomainEvent.event_type).where(
                DomainEvent.event_type.in_(["sla.at_risk", "sla.violated"])
            )
        )
        return sorted((entity, kind) for entity, kind in rows)


async def test_notices_are_emitted_once_at_80_percent_and_past_the_threshold(
    api: Api, app: Any
) -> None:
    owner = await api.owner()
    now = utcnow()
    fresh = await new_outage(api, owner, detected_at=isoformat(now - timedelta(minutes=2)))
    risky = await new_outage(api, owner, detected_at=isoformat(now - timedelta(minutes=13)))
    late = await new_outage(api, owner, detected_at=isoformat(now - timedelta(minutes=20)))
    done = await new_outage(api, owner, detected_at=isoformat(now - timedelta(minutes=30)))
    await api.post(f"/outages/{done['id']}/resolve", owner, json={"mttr_minutes": 25})
    assert await sweep(app.state.database) == 3
    assert await sweep(app.state.database) == 0  # once, not at every sweep
    assert await _events(app) == sorted(
        [
            (risky["id"], "sla.at_risk"),
            (late["id"], "sla.at_risk"),
            (late["id"], "sla.violated"),
        ]
    )  # the resolved one is left alone
    timeline = (await api.get(f"/outages/{late['id']}/timeline", owner)).json()
    assert [e["event"] for e in timeline] == ["created", "at_risk", "sla_violated"]
    assert fresh["id"] not in {entity for entity, _ in await _events(app)}


async def test_the_inline_executor_runs_the_clock(api: Api, app: Any) -> None:
    owner = await api.owner()
    late = await new_outage(api, owner, detected_at=isoformat(utcnow() - timedelta(minutes=20)))
    await app.state.executor.run_due_sweeps()
    assert (late["id"], "sla.violated") in await _events(app)
