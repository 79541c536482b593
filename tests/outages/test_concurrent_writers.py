"""Review probes: concurrent writers on one outage."""

import asyncio
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.conftest import TEST_DATABASE_URL
from tests.helpers import Api, Session
from tests.outages.conftest import resolved_lasting


async def _latest_counts() -> list[Any]:
    engine = create_async_engine(TEST_DATABASE_URL)
    async with engine.connect() as c:
        rows = (
            await c.execute(
                text(
                    "select outage_id, count(*) filter (where is_latest) from sla_results "
                    "group by outage_id"
                )
            )
        ).all()
    await engine.dispose()
    return rows


async def _resolved(api: Api, s: Session, mttr: int = 40) -> dict[str, Any]:
    return await resolved_lasting(api, s, mttr)


async def _change_policy(api: Api, s: Session) -> None:
    r = await api.put(
        "/sla/config/critical",
        s,
        json={"threshold_minutes": 15, "penalty_per_minute": 7, "reward_base": 750},
    )
    assert r.status_code == 200, r.text


async def test_two_concurrent_calculates(api: Api) -> None:
    s = await api.owner()
    o = await _resolved(api, s)
    await _change_policy(api, s)
    r1, r2 = await asyncio.gather(
        api.post("/sla/calculate", s, json={"outage_id": o["id"]}),
        api.post("/sla/calculate", s, json={"outage_id": o["id"]}),
    )
    print("CALC", r1.status_code, r2.status_code, r1.text[:150], r2.text[:150])
    print("COUNTS", await _latest_counts())
    assert {r1.status_code, r2.status_code} == {200}
    assert (
        r1.json()["sla_result"]["id"] == r2.json()["sla_result"]["id"]
    )  # idempotent per policy version


async def test_calc_and_dispute_accept(api: Api) -> None:
    s = await api.owner()
    o = await _resolved(api, s)
    d = await api.post(
        "/sla/disputes",
        s,
        json={
            "outage_id": o["id"],
            "sla_result_id": o["sla_result"]["id"],
            "reason": "abcd",
            "proposed_mttr_minutes": 10,
        },
    )
    assert d.status_code == 201
    await _change_policy(api, s)
    r1, r2 = await asyncio.gather(
        api.post("/sla/calculate", s, json={"outage_id": o["id"]}),
        api.post(
            f"/sla/disputes/{d.json()['dispute_id']}/resolve", s, json={"resolution": "accepted"}
        ),
    )
    print("CALC+DISPUTE", r1.status_code, r2.status_code, r1.text[:200], r2.text[:200])
    print("COUNTS", await _latest_counts())


async def test_recalc_vs_calc_deadlock(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    s = await api.owner()
    a = await _resolved(api, s)
    b = await _resolved(api, s)
    await _change_policy(api, s)
    from app.journal import journal

    real = journal.follow_up

    async def slow(session: Any) -> None:
        waiting = journal.journal_of(session).unanswered
        if any((change.data or {}).get("trigger") == "calculate" for change, _ in waiting):
            await asyncio.sleep(0.4)  # widen the window between the row lock and the payout
        await real(session)

    monkeypatch.setattr(journal, "follow_up", slow)

    async def later() -> Any:
        await asyncio.sleep(0.15)
        return await api.post("/sla/recalculate", s, json={"outage_ids": [a["id"], b["id"]]})

    r1, r2 = await asyncio.gather(
        api.post("/sla/calculate", s, json={"outage_id": b["id"]}), later()
    )
    print("DEADLOCK?", r1.status_code, r2.status_code, r1.text[:200], r2.text[:200])
    assert 500 not in (r1.status_code, r2.status_code)
