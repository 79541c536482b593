"""Review probes: disputes vs. newer results."""

import asyncio
from typing import Any

import pytest

from tests.helpers import Api, Session
from tests.outages.test_concurrent_writers import _change_policy, _resolved


async def _file(api: Api, s: Session, o: dict[str, Any], mttr: int = 10) -> str:
    d = await api.post(
        "/sla/disputes",
        s,
        json={
            "outage_id": o["id"],
            "sla_result_id": o["sla_result"]["id"],
            "reason": "abcd",
            "proposed_mttr_minutes": mttr,
        },
    )
    assert d.status_code == 201
    return d.json()["dispute_id"]


async def test_a_dispute_on_a_superseded_result_cannot_be_accepted(api: Api) -> None:
    s = await api.owner()
    o = await _resolved(api, s, 40)  # critical: -2500 under v1
    dispute_id = await _file(api, await api.member(s, "engineer"), o)
    await _change_policy(api, s)  # penalty 7/min
    c = await api.post("/sla/calculate", s, json={"outage_id": o["id"]})
    assert c.json()["sla_result"]["amount"] == -175.0  # a penalty: calculate signs it (the seed)
    r = await api.post(f"/sla/disputes/{dispute_id}/resolve", s, json={"resolution": "accepted"})
    # Accepting would recompute from the superseded result: refused, nothing changes.
    assert r.status_code == 409 and r.json()["error"]["code"] == "CONFLICT"
    latest = (await api.get(f"/sla/results/{o['id']}", s)).json()
    assert latest["id"] == c.json()["sla_result"]["id"] and latest["amount"] == 175.0


async def test_calculate_overrides_accepted_dispute(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = await api.owner()
    o = await _resolved(api, s, 40)
    dispute_id = await _file(api, await api.member(s, "engineer"), o)
    await _change_policy(api, s)
    from app.sla import service as sla_service

    real = sla_service.policies.current_policy

    async def slow(*a: Any, **kw: Any) -> Any:
        await asyncio.sleep(0.4)  # widen the window after the outage was read
        return await real(*a, **kw)

    monkeypatch.setattr(sla_service.policies, "current_policy", slow)

    async def later() -> Any:
        await asyncio.sleep(0.1)
        return await api.post(
            f"/sla/disputes/{dispute_id}/resolve", s, json={"resolution": "accepted"}
        )

    c, d = await asyncio.gather(api.post("/sla/calculate", s, json={"outage_id": o["id"]}), later())
    monkeypatch.undo()
    print("RACE", c.status_code, d.status_code)
    detail = (await api.get(f"/outages/{o['id']}", s)).json()
    print(
        "OUTAGE MTTR",
        detail["mttr_minutes"],
        "LATEST",
        detail["sla_result"]["mttr_minutes"],
        detail["sla_result"]["trigger"],
        detail["sla_result"]["amount"],
    )
    assert detail["sla_result"]["mttr_minutes"] == detail["mttr_minutes"]
