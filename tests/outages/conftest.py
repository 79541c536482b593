from datetime import timedelta
from typing import Any

import pytest

from app.core.clock import isoformat, utcnow
from tests.helpers import Api, Session


@pytest.fixture
async def engineer(api: Api, owner: Session) -> Session:
    return await api.member(owner, "engineer")


async def new_outage(api: Api, session: Session, **fields: Any) -> dict[str, Any]:
    body = {
        "site_name": "Cell Tower Alpha",
        "severity": "critical",
        "description": "Total signal loss",
        **fields,
    }
    if "affected_services" not in body:  # the input alias; both at once is refused
        body.setdefault("services_affected", ["4G", "5G"])
    response = await api.post("/outages", session, json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def outage_lasting(
    api: Api, session: Session, minutes: int, **fields: Any
) -> tuple[dict[str, Any], dict[str, str]]:
    """An outage detected `minutes` ago, and the resolve body that stops its clock now: its
    measured MTTR is exactly `minutes` (the clock stops at the given `resolved_at`, which the
    service's clock bears out)."""
    detected = utcnow() - timedelta(minutes=minutes)
    outage = await new_outage(api, session, detected_at=isoformat(detected), **fields)
    return outage, {"resolved_at": isoformat(detected + timedelta(minutes=minutes))}


async def resolved_lasting(
    api: Api, session: Session, minutes: int, **fields: Any
) -> dict[str, Any]:
    """An outage resolved on a measured MTTR of `minutes`: the resolve response."""
    outage, body = await outage_lasting(api, session, minutes, **fields)
    response = await api.post(f"/outages/{outage['id']}/resolve", session, json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def approve_claims(api: Api, approver: Session, outage_id: str) -> None:
    """A second person approves the outage's pending MTTR claim (a backdated `resolved_at` or
    a claimed `mttr_minutes`): its outcome then uses the claim."""
    pending = await api.get(
        "/sla/overrides", approver, params={"status": "pending", "outage_id": outage_id}
    )
    assert pending.status_code == 200, pending.text
    for claim in pending.json()["results"]:
        approved = await api.post(f"/sla/overrides/{claim['id']}/approve", approver, json={})
        assert approved.status_code == 200, approved.text
