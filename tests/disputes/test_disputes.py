"""Disputes: file, resolve (accepted recomputes, rejected keeps), bulk, tenancy."""

from typing import Any

import pytest

from tests.helpers import Api, Session, assert_error
from tests.outages.conftest import resolved_lasting


@pytest.fixture
async def engineer(api: Api, owner: Session) -> Session:
    """Files disputes: accepting one takes a second person (the owner here)."""
    return await api.member(owner, "engineer")


async def _disputable(api: Api, session: Session, mttr: int = 25) -> dict[str, Any]:
    """Resolved by an engineer of `session`'s organization: the one who accepts a dispute is
    neither its filer nor the outage's resolver."""
    resolver = await api.member(session, "engineer")
    return await resolved_lasting(api, resolver, mttr)


async def _file(api: Api, session: Session, outage: dict[str, Any], **extra: Any) -> Any:
    return await api.post(
        "/sla/disputes",
        session,
        json={
            "outage_id": outage["id"],
            "sla_result_id": outage["sla_result"]["id"],
            "reason": "MTTR started before the engineer was notified",
            **extra,
        },
    )


async def test_file_and_accept_recomputes_and_records_the_difference(
    api: Api, owner: Session, engineer: Session
) -> None:
    outage = await _disputable(api, owner, 25)  # penalty 1000
    filed = await _file(api, engineer, outage, proposed_mttr_minutes=14)
    assert filed.status_code == 201
    assert filed.json()["status"] == "open" and filed.json()["dispute_id"].startswith("dsp_")
    dispute_id = filed.json()["dispute_id"]
    resolved = await api.post(
        f"/sla/disputes/{dispute_id}/resolve",
        owner,
        json={"resolution": "accepted", "notes": "Call logs confirm"},
    )
    body = resolved.json()
    assert body["status"] == "resolved" and body["resolution"] == "accepted"
    assert body["payment_difference"] == 1750.0  # from -1000 to +750
    latest = (await api.get(f"/sla/results/{outage['id']}", owner)).json()
    assert latest["id"] == body["new_sla_result_id"]
    assert (latest["status"], latest["amount"], latest["trigger"]) == ("met", 750.0, "dispute")
    detail = (await api.get(f"/outages/{outage['id']}", owner)).json()
    # No wallet is registered here, so the new result's payment fails at once.
    assert [e["event"] for e in detail["timeline"]][-5:] == [
        "dispute_filed",
        "override_approved",
        "sla_evaluated",
        "payment_triggered",
        "dispute_resolved",
    ]
    audit = (await api.get("/audit", owner, params={"event_type": "dispute.resolved"})).json()
    assert audit["total"] == 1


async def test_rejected_keeps_the_outcome(api: Api, owner: Session) -> None:
    outage = await _disputable(api, owner)
    dispute_id = (await _file(api, owner, outage)).json()["dispute_id"]
    body = (
        await api.post(
            f"/sla/disputes/{dispute_id}/resolve",
            owner,
            json={"resolution": "rejected", "notes": "Logs show no delay"},
        )
    ).json()
    assert body["status"] == "rejected" and body["payment_difference"] is None
    latest = (await api.get(f"/sla/results/{outage['id']}", owner)).json()
    assert latest["id"] == outage["sla_result"]["id"]
    listed = (await api.get("/sla/disputes", owner, params={"status": "rejected"})).json()
    assert listed["total"] == 1
    again = await api.post(
        f"/sla/disputes/{dispute_id}/resolve",
        owner,
        json={"resolution": "accepted", "adjusted_mttr_minutes": 1},
    )
    assert_error(again, 409, "CONFLICT")


async def test_accepting_needs_a_corrected_mttr(api: Api, owner: Session) -> None:
    outage = await _disputable(api, owner)
    dispute_id = (await _file(api, owner, outage)).json()["dispute_id"]
    response = await api.post(
        f"/sla/disputes/{dispute_id}/resolve", owner, json={"resolution": "accepted"}
    )
    assert_error(response, 422, "VALIDATION_ERROR")
    assert (await api.get(f"/sla/disputes/{dispute_id}", owner)).json()["status"] == "open"


async def test_one_open_dispute_per_result(api: Api, owner: Session) -> None:
    outage = await _disputable(api, owner)
    assert (await _file(api, owner, outage)).status_code == 201
    assert_error(await _file(api, owner, outage), 409, "CONFLICT")


async def test_a_dispute_on_another_organizations_result_is_404(api: Api, owner: Session) -> None:
    theirs = await _disputable(api, await api.owner())
    assert_error(await _file(api, owner, theirs), 404, "NOT_FOUND")
    mine = await _disputable(api, owner)
    mixed = await api.post(
        "/sla/disputes",
        owner,
        json={
            "outage_id": mine["id"],
            "sla_result_id": theirs["sla_result"]["id"],
            "reason": "x y z",
        },
    )
    assert_error(mixed, 404, "NOT_FOUND")


async def test_bulk_resolve_reports_each_dispute(
    api: Api, owner: Session, engineer: Session
) -> None:
    first = (
        await _file(api, engineer, await _disputable(api, owner), proposed_mttr_minutes=5)
    ).json()["dispute_id"]
    second = (await _file(api, owner, await _disputable(api, owner))).json()["dispute_id"]
    await api.post(f"/sla/disputes/{second}/resolve", owner, json={"resolution": "rejected"})
    body = (
        await api.post(
            "/sla/disputes/bulk-resolve",
            owner,
            json={
                "dispute_ids": [first, second, "dsp_unknown"],
                "resolution": "accepted",
                "notes": "bulk review",
            },
        )
    ).json()
    assert [d["id"] for d in body["resolved"]] == [first]
    assert {e["dispute_id"]: e["code"] for e in body["errors"]} == {
        second: "CONFLICT",
        "dsp_unknown": "NOT_FOUND",
    }


async def test_roles(api: Api, owner: Session) -> None:
    viewer = await api.member(owner, "viewer")
    engineer = await api.member(owner, "engineer")
    outage = await _disputable(api, owner)
    assert_error(await _file(api, viewer, outage), 403, "FORBIDDEN")
    dispute_id = (await _file(api, engineer, outage)).json()["dispute_id"]
    assert_error(
        await api.post(
            f"/sla/disputes/{dispute_id}/resolve", engineer, json={"resolution": "rejected"}
        ),
        403,
        "FORBIDDEN",
    )
    assert (await api.get(f"/sla/disputes/{dispute_id}", viewer)).status_code == 200
