"""Resolve: one transaction, the SLA result, one winner among concurrent resolves."""

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from app.core.clock import isoformat, utcnow
from app.core.tenancy import system_session
from app.journal.models import DomainEvent
from app.sla.models import SlaResult
from tests.helpers import Api, Session, assert_error
from tests.outages.conftest import new_outage, outage_lasting


async def test_resolve_computes_the_sla_and_writes_everything(
    api: Api, engineer: Session, owner: Session, app: Any
) -> None:
    outage, lasting = await outage_lasting(api, engineer, 25)
    response = await api.post(
        f"/outages/{outage['id']}/resolve",
        engineer,
        json={
            **lasting,
            "mttr_minutes": 25,  # a claim the clock bears out: no override request
            "root_cause": "UPS battery failure",
            "resolution_notes": "Battery replaced",
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "resolved" and body["mttr_minutes"] == 25
    assert (body["measured_mttr_minutes"], body["mttr_source"]) == (25, "clock")
    assert body["overrides"] == [] and body["settlement_hold"] is None
    result = body["sla_result"]
    assert (result["status"], result["outcome"], result["amount"]) == (
        "violated",
        "penalty",
        1000.0,
    )
    assert result["policy_version"] == 1 and result["is_latest"] is True
    assert result["mttr_source"] == "clock" and result["measured_mttr_minutes"] == 25
    assert body["sla_status"]["penalty_amount"] == 1000.0
    assert [e["event"] for e in body["timeline"]] == [
        "created",
        "resolved",
        "sla_evaluated",
        "payment_triggered",
    ]
    # Enqueued in the same transaction; with no operator wallet registered it fails clearly.
    assert body["payment"]["type"] == "penalty" and body["payment"]["amount"] == 1000.0
    assert body["payment"]["failure_code"] == "wallet_not_registered"
    async with system_session(app.state.database, "test inspection") as session:
        events = (
            (
                await session.execute(
                    select(DomainEvent.event_type).order_by(DomainEvent.occurred_at)
                )
            )
            .scalars()
            .all()
        )
    assert events == ["outage.created", "outage.resolved", "sla.calculated", "payment.failed"]
    audit = (await api.get("/audit", owner)).json()["results"]
    assert {"outage.resolved", "sla.calculated"} <= {row["event_type"] for row in audit}


async def test_mttr_is_the_clock_from_detection_to_now(api: Api, engineer: Session) -> None:
    detected = utcnow() - timedelta(minutes=12, seconds=30)
    outage = await new_outage(api, engineer, severity="high", detected_at=isoformat(detected))
    body = (await api.post(f"/outages/{outage['id']}/resolve", engineer, json={})).json()
    assert body["mttr_minutes"] == 13  # rounded up
    assert body["mttr_source"] == "clock" and body["overrides"] == []
    assert body["sla_result"]["rating"] == "exceptional"  # 13 < 50% of 30
    assert body["sla_result"]["amount"] == 1500.0


@pytest.mark.parametrize(
    "payload",
    [
        {"mttr_minutes": -1},
        {"mttr_minutes": 525_601},
        {"mttr_minutes": "soon"},
        {"resolved_at": "2026-01-16T09:30:00"},
        {"mttr_minutes": 5, "extra": True},
    ],
)
async def test_bad_resolve_input_is_refused_and_the_outage_stays_open(
    api: Api, engineer: Session, payload: dict[str, Any]
) -> None:
    outage = await new_outage(api, engineer)
    response = await api.post(f"/outages/{outage['id']}/resolve", engineer, json=payload)
    assert_error(response, 422, "VALIDATION_ERROR")
    assert (await api.get(f"/outages/{outage['id']}", engineer)).json()["status"] == "open"


async def test_resolved_before_detected_is_422(api: Api, engineer: Session) -> None:
    outage = await new_outage(api, engineer)
    before = isoformat(utcnow() - timedelta(days=1))
    response = await api.post(
        f"/outages/{outage['id']}/resolve", engineer, json={"resolved_at": before}
    )
    assert_error(response, 422, "VALIDATION_ERROR")
    assert (await api.get(f"/outages/{outage['id']}", engineer)).json()["status"] == "open"


async def test_a_second_resolve_is_409(api: Api, engineer: Session) -> None:
    outage = await new_outage(api, engineer)
    await api.post(f"/outages/{outage['id']}/resolve", engineer, json={})
    again = await api.post(f"/outages/{outage['id']}/resolve", engineer, json={"mttr_minutes": 50})
    assert_error(again, 409, "CONFLICT")


async def test_concurrent_resolves_have_one_winner(api: Api, engineer: Session, app: Any) -> None:
    outage = await new_outage(api, engineer)
    responses = await asyncio.gather(
        *[
            api.post(f"/outages/{outage['id']}/resolve", engineer, json={"mttr_minutes": m})
            for m in (5, 10, 20, 40)
        ]
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 409, 409, 409]
    async with system_session(app.state.database, "test inspection") as session:
        count = (await session.execute(select(func.count()).select_from(SlaResult))).scalar()
    assert count == 1


async def test_a_failure_inside_resolve_leaves_nothing_behind(
    api: Api, engineer: Session, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    outage = await new_outage(api, engineer)
    from app.sla import settlement

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the SLA store is on fire")

    monkeypatch.setattr(settlement.sla, "record_result", broken)
    response = await api.post(
        f"/outages/{outage['id']}/resolve", engineer, json={"mttr_minutes": 5}
    )
    assert_error(response, 500, "INTERNAL_SERVER_ERROR")
    monkeypatch.undo()
    detail = (await api.get(f"/outages/{outage['id']}", engineer)).json()
    assert detail["status"] == "open" and detail["mttr_minutes"] is None
    assert [e["event"] for e in detail["timeline"]] == ["created"]
    async with system_session(app.state.database, "test inspection") as session:
        events = (await session.execute(select(DomainEvent.event_type))).scalars().all()
    assert events == ["outage.created"]
