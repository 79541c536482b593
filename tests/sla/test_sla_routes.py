"""SLA policy versions, calculate, preview, results, recalculate."""

from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.core.tenancy import system_session
from app.sla.models import SlaResult
from tests.helpers import Api, Session, assert_error
from tests.outages.conftest import new_outage, resolved_lasting


async def _resolved(api: Api, session: Session, mttr: int, **fields: Any) -> dict[str, Any]:
    return await resolved_lasting(api, session, mttr, **fields)


async def test_config_starts_with_the_defaults(api: Api, owner: Session) -> None:
    config = (await api.get("/sla/config", owner)).json()
    assert config["policy_version"] == 1
    assert config["critical"]["threshold_minutes"] == 15
    assert config["critical"]["penalty_per_minute"] == 100.0
    assert config["low"]["reward_base"] == 600.0


async def test_a_policy_change_is_a_new_version_and_audited(api: Api, owner: Session) -> None:
    body = {"threshold_minutes": 20, "penalty_per_minute": 80.5, "reward_base": 500}
    response = await api.put("/sla/config/critical", owner, json=body)
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 2
    config = (await api.get("/sla/config", owner)).json()
    assert config["critical"]["threshold_minutes"] == 20 and config["policy_version"] == 2
    assert config["high"]["version"] == 1
    audit = (await api.get("/audit", owner, params={"event_type": "sla.policy_changed"})).json()
    assert audit["total"] == 1


@pytest.mark.parametrize(
    "body",
    [
        {"threshold_minutes": 0, "penalty_per_minute": 1, "reward_base": 1},
        {"threshold_minutes": 20000, "penalty_per_minute": 1, "reward_base": 1},
        {"threshold_minutes": 20, "penalty_per_minute": -1, "reward_base": 1},
        {"threshold_minutes": 20, "penalty_per_minute": 1, "reward_base": "0.00000001"},
        {"threshold_minutes": 20, "penalty_per_minute": 1},
    ],
)
async def test_policy_ranges_are_validated(api: Api, owner: Session, body: dict[str, Any]) -> None:
    assert_error(await api.put("/sla/config/critical", owner, json=body), 422, "VALIDATION_ERROR")
    assert_error(
        await api.put(
            "/sla/config/urgent",
            owner,
            json={"threshold_minutes": 5, "penalty_per_minute": 1, "reward_base": 1},
        ),
        422,
        "VALIDATION_ERROR",
    )
    assert (await api.get("/sla/config", owner)).json()["policy_version"] == 1


async def test_policy_changes_need_an_admin_and_stay_in_one_org(api: Api, owner: Session) -> None:
    operator = await api.member(owner, "operator")
    body = {"threshold_minutes": 5, "penalty_per_minute": 1, "reward_base": 1}
    assert_error(await api.put("/sla/config/low", operator, json=body), 403, "FORBIDDEN")
    other = await api.owner()
    await api.put("/sla/config/low", other, json=body)
    assert (await api.get("/sla/config", owner)).json()["low"]["threshold_minutes"] == 120


async def test_calculate_is_idempotent_per_policy_version(api: Api, owner: Session) -> None:
    outage = await _resolved(api, owner, 25)
    first = (await api.post("/sla/calculate", owner, json={"outage_id": outage["id"]})).json()
    assert first["sla_result"]["id"] == outage["sla_result"]["id"]
    await api.put(
        "/sla/config/critical",
        owner,
        json={"threshold_minutes": 30, "penalty_per_minute": 100, "reward_base": 750},
    )
    second = (await api.post("/sla/calculate", owner, json={"outage_id": outage["id"]})).json()
    assert second["sla_result"]["id"] != first["sla_result"]["id"]
    assert second["sla_result"]["status"] == "met" and second["sla_result"]["policy_version"] == 2
    third = (await api.post("/sla/calculate", owner, json={"outage_id": outage["id"]})).json()
    assert third["sla_result"]["id"] == second["sla_result"]["id"]


async def test_calculate_of_an_open_outage_is_409(api: Api, owner: Session) -> None:
    outage = await new_outage(api, owner)
    response = await api.post("/sla/calculate", owner, json={"outage_id": outage["id"]})
    assert_error(response, 409, "CONFLICT")
    assert_error(await api.get(f"/sla/results/{outage['id']}", owner), 404, "NOT_FOUND")


async def test_preview_computes_and_writes_nothing(api: Api, owner: Session, app: Any) -> None:
    response = await api.post("/sla/preview", owner, json={"severity": "high", "mttr_minutes": 95})
    body = response.json()
    assert (body["status"], body["amount"], body["signed_amount"]) == ("violated", 3250.0, -3250.0)
    async with system_session(app.state.database, "test inspection") as session:
        assert (await session.execute(select(SlaResult))).first() is None
    bad = await api.post("/sla/preview", owner, json={"severity": "high", "mttr_minutes": -3})
    assert_error(bad, 422, "VALIDATION_ERROR")


async def test_status_of_open_and_resolved_outages(api: Api, owner: Session) -> None:
    open_outage = await new_outage(api, owner, severity="medium")
    live = (await api.get(f"/sla/status/{open_outage['id']}", owner)).json()
    assert live["status"] == "in_progress" and live["time_remaining_minutes"] == 60
    done = await _resolved(api, owner, 7)
    final = (await api.get(f"/sla/status/{done['id']}", owner)).json()
    assert final["status"] == "met" and final["reward_amount"] == 1500.0


async def test_recalculate_updates_only_changed_outcomes(api: Api, owner: Session) -> None:
    changes = await _resolved(api, owner, 25)  # violated at 15, met at 30
    stays = await _resolved(api, owner, 40)  # violated either way, amount changes
    same = await _resolved(api, owner, 60, severity="low")  # low policy untouched
    open_one = await new_outage(api, owner)
    await api.put(
        "/sla/config/critical",
        owner,
        json={"threshold_minutes": 30, "penalty_per_minute": 100, "reward_base": 750},
    )
    ids = [changes["id"], stays["id"], same["id"], open_one["id"], "out_missing"]
    report = (await api.post("/sla/recalculate", owner, json={"outage_ids": ids})).json()
    assert sorted(u["outage_id"] for u in report["updated"]) == sorted([changes["id"], stays["id"]])
    assert report["unchanged"] == [same["id"]]
    assert {e["outage_id"]: e["error"] for e in report["errors"]} == {
        open_one["id"]: "not_resolved",
        "out_missing": "not_found",
    }
    latest = (await api.get(f"/sla/results/{changes['id']}", owner)).json()
    assert latest["status"] == "met" and latest["trigger"] == "recalculate"
    again = (await api.post("/sla/recalculate", owner, json={"outage_ids": ids})).json()
    assert again["updated"] == []


async def test_a_large_recalculation_runs_as_a_job(api: Api, owner: Session, app: Any) -> None:
    outage = await _resolved(api, owner, 25)
    await api.put(
        "/sla/config/critical",
        owner,
        json={"threshold_minutes": 30, "penalty_per_minute": 100, "reward_base": 750},
    )
    response = await api.post("/sla/recalculate", owner, json={"all": True})
    assert response.status_code == 202
    job_id = response.json()["job_id"]
    await app.state.executor.drain()
    job = (await api.get(f"/jobs/{job_id}", owner)).json()
    assert job["status"] == "succeeded"
    assert [u["outage_id"] for u in job["result"]["updated"]] == [outage["id"]]


async def test_the_database_allows_one_latest_result_per_outage(
    api: Api, owner: Session, app: Any
) -> None:
    await _resolved(api, owner, 25)
    await api.put(
        "/sla/config/critical",
        owner,
        json={"threshold_minutes": 30, "penalty_per_minute": 100, "reward_base": 750},
    )
    outage = (await api.get("/outages", owner)).json()["results"][0]
    await api.post("/sla/calculate", owner, json={"outage_id": outage["id"]})
    async with system_session(app.state.database, "test inspection") as session:
        with pytest.raises(IntegrityError):
            await session.execute(update(SlaResult).values(is_latest=True))
