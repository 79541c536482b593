"""Fault intake (the seed's schema), filters, comments, resolve, dedup, share tokens, TTL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from app.core.clock import utcnow
from app.core.tenancy import system_session
from app.faults import service
from app.faults.models import Fault, FaultShareToken
from tests.helpers import Api, assert_error

SEED = {
    "resource_id": "dev_2j4k2l2j3k4l2j3k4",
    "microservice_id": "manual-api-entry",
    "type": "wan-degradation",
    "severity": "MEDIUM",
    "message": "WAN link latency high: Primary link (WAN1) latency is elevated",
    "cause": "Latency probe exceeded 250ms for 5 consecutive checks.",
    "resource_ancestry_path": "site_8a7b6c5d4e3f2g1h|dev_2j4k2l2j3k4l2j3k4",
}


async def report(api: Api, who: Any, **fields: Any) -> dict[str, Any]:
    response = await api.post("/faults", who, json={**SEED, **fields})
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


async def test_create_with_the_seed_schema(api: Api) -> None:
    owner = await api.owner()
    fault = await report(api, owner)
    assert fault["id"].startswith("flt_") and len(fault["id"]) == 30
    assert fault["customer_id"] == owner.organization_id
    assert (fault["status"], fault["resolved_at"], fault["comments"]) == ("unresolved", None, [])
    # Expires FAULT_TTL_DAYS after its last report unless reported again or resolved.
    assert 29 * 86400 < fault["ttl"] - utcnow().timestamp() <= 30 * 86400
    assert fault["occurrences"] == 1 and fault["outage_id"] is None
    assert (await api.get(f"/faults/{fault['id']}", owner)).json()["message"] == SEED["message"]


async def test_bad_input_is_refused(api: Api) -> None:
    owner = await api.owner()
    without_cause = {k: v for k, v in SEED.items() if k != "cause"}
    assert_error(await api.post("/faults", owner, json=without_cause), 422, "VALIDATION_ERROR")
    for fields in (
        {"severity": "SEVERE"},
        {"severity": "high"},
        {"resource_ancestry_path": "site_a||dev_1"},
        {"resource_ancestry_path": "|site_a"},
        {"resource_ancestry_path": "site_a|"},
        {"message": "x" * 1001},
        {"type": "bad type!"},
    ):
        assert_error(
            await api.post("/faults", owner, json={**SEED, **fields}), 422, "VALIDATION_ERROR"
        )
    fault = await report(api, owner)
    too_long = await api.post(
        f"/faults/{fault['id']}/comments", owner, json={"comment": "x" * 2001}
    )
    assert_error(too_long, 422, "VALIDATION_ERROR")
    viewer = await api.member(owner, "viewer")
    assert_error(await api.post("/faults", viewer, json=SEED), 403, "FORBIDDEN")
    stranger = await api.owner()
    assert_error(await api.get(f"/faults/{fault['id']}", stranger), 404, "NOT_FOUND")
    assert_error(await api.post(f"/faults/{fault['id']}/resolve", stranger), 404, "NOT_FOUND")


async def test_machines_report_with_api_keys_until_revoked(api: Api) -> None:
    owner = await api.owner()
    created = await api.post("/api-keys", owner, json={"name": "probe", "role": "engineer"})
    assert created.status_code == 201, created.text
    key = created.json()
    headers = {"X-API-Key": key["key"]}
    assert (await api.post("/faults", json=SEED, headers=headers)).status_code == 201
    assert (await api.delete(f"/api-keys/{key['id']}", owner)).status_code in (200, 204)
    assert_error(await api.post("/faults", json=SEED, headers=headers), 401, "UNAUTHORIZED")


async def test_filters_site_ancestry_and_cursor_paging(api: Api) -> None:
    owner = await api.owner()
    a = await report(
        api, owner, resource_id="dev_a", resource_ancestry_path="region_1|site_A|dev_a"
    )
    b = await report(
        api,
        owner,
        resource_id="dev_b",
        resource_ancestry_path="region_1|site_B|dev_b",
        severity="WARNING",
        type="power",
    )

    async def ids(**params: Any) -> list[str]:
        body = (await api.get("/faults", owner, params=params)).json()
        return [f["id"] for f in body["results"]]

    assert await ids(site="site_A") == [a["id"]]
    assert await ids(site="region_1") == [b["id"], a["id"]]
    assert await ids(site="site") == [] and await ids(site="site_%") == []
    assert await ids(severity="WARNING") == [b["id"]]
    assert await ids(type="power") == [b["id"]]
    assert await ids(resource_id="dev_a") == [a["id"]]
    assert await ids(status="recent") == [b["id"], a["id"]]
    assert_error(
        await api.get("/faults", owner, params={"status": "open"}), 422, "VALIDATION_ERROR"
    )
    page = (await api.get("/faults", owner, params={"limit": 1})).json()
    assert [f["id"] for f in page["results"]] == [b["id"]]
    second = (
        await api.get("/faults", owner, params={"limit": 1, "cursor": page["next_cursor"]})
    ).json()
    assert [f["id"] for f in second["results"]] == [a["id"]]


async def test_comments_resolve_ttl_delete_and_top(app: Any, api: Api) -> None:
    owner = await api.owner()
    fault = await report(api, owner)
    for text in ("first", "second"):
        commented = await api.post(f"/faults/{fault['id']}/comments", owner, json={"comment": text})
        assert commented.status_code == 201
    body = (await api.get(f"/faults/{fault['id']}", owner)).json()
    assert [c["comment"] for c in body["comments"]] == ["first", "second"]
    assert body["comments"][0]["user_id"] == owner.user["id"]
    resolved = (await api.post(f"/faults/{fault['id']}/resolve", owner)).json()
    assert resolved["status"] == "resolved" and resolved["resolved_at"]
    assert resolved["ttl"] - int(utcnow().timestamp()) > 29 * 86400
    assert_error(await api.post(f"/faults/{fault['id']}/resolve", owner), 409, "CONFLICT")
    await report(api, owner, resource_id="dev_x", type="t1")
    await report(api, owner, resource_id="dev_x", type="t2")
    top = (await api.get("/faults/top", owner)).json()
    assert top[0]["resource_id"] == "dev_x" and top[0]["faults"] == 2
    engineer = await api.member(owner, "engineer")
    assert_error(await api.delete(f"/faults/{fault['id']}", engineer), 403, "FORBIDDEN")
    # Past its ttl the periodic purge removes it.
    async with system_session(app.state.database, "test inspection") as session:
        await session.execute(update(Fault).where(Fault.id == fault["id"]).values(ttl=1))
        await session.commit()
    assert await service.purge_expired(app.state.database) == 1
    assert_error(await api.get(f"/faults/{fault['id']}", owner), 404, "NOT_FOUND")
    other = await report(api, owner, resource_id="dev_y")
    assert (await api.delete(f"/faults/{other['id']}", owner)).status_code == 204


async def test_a_burst_of_the_same_fault_is_one_fault(api: Api) -> None:
    owner = await api.owner()
    first = await report(api, owner)
    repeats = [await api.post("/faults", owner, json=SEED) for _ in range(4)]
    assert {r.status_code for r in repeats} == {200}
    assert {r.json()["id"] for r in repeats} == {first["id"]}
    assert repeats[-1].json()["occurrences"] == 5
    other_type = await report(api, owner, type="power")
    assert other_type["id"] != first["id"]
    await api.post(f"/faults/{first['id']}/resolve", owner)
    again = await api.post("/faults", owner, json=SEED)
    assert again.status_code == 201 and again.json()["id"] != first["id"]


async def test_share_tokens_are_read_only_limited_and_revocable(app: Any, api: Api) -> None:
    owner = await api.owner()
    mine = await report(api, owner, resource_ancestry_path="site_A|dev_1", resource_id="dev_1")
    await report(api, owner, resource_ancestry_path="site_B|dev_2", resource_id="dev_2")
    stranger = await api.owner()
    await report(api, stranger, resource_ancestry_path="site_A|dev_9", resource_id="dev_9")
    for minutes in (0, 43201):
        refused = await api.post("/faults/tokens", owner, json={"expires_in_minutes": minutes})
        assert_error(refused, 422, "VALIDATION_ERROR")
    made = await api.post(
        "/faults/tokens", owner, json={"expires_in_minutes": 60, "site": "site_A"}
    )
    assert made.status_code == 201 and made.headers["cache-control"] == "no-store"
    token = made.json()["token"]
    shared = (await api.get("/faults/shared", params={"token": token})).json()
    assert [f["id"] for f in shared["results"]] == [mine["id"]]  # one site, one organization
    assert_error(
        await api.get("/faults/shared", params={"token": token, "site": "site_B"}), 403, "FORBIDDEN"
    )
    assert_error(
        await api.get("/faults/shared", params={"token": "fst_" + "x" * 40}), 401, "UNAUTHORIZED"
    )
    async with system_session(app.state.database, "test inspection") as session:
        stored = (await session.execute(select(FaultShareToken))).scalar_one()
        assert stored.token_hash != token and token not in stored.token_hash
        await session.execute(
            update(FaultShareToken).values(expires_at=utcnow() - timedelta(seconds=1))
        )
        await session.commit()
    assert_error(await api.get("/faults/shared", params={"token": token}), 401, "UNAUTHORIZED")
    fresh = (await api.post("/faults/tokens", owner, json={"expires_in_minutes": 5})).json()
    assert (
        len((await api.get("/faults/shared", params={"token": fresh["token"]})).json()["results"])
        == 2
    )
    assert (await api.delete(f"/faults/tokens/{fresh['id']}", owner)).json()["revoked_at"]
    assert_error(
        await api.get("/faults/shared", params={"token": fresh["token"]}), 401, "UNAUTHORIZED"
    )


async def test_a_concurrent_burst_from_one_resource_is_one_fault(app: Any, api: Api) -> None:
    import asyncio

    owner = await api.owner()
    answers = await asyncio.gather(*(api.post("/faults", owner, json=SEED) for _ in range(20)))
    assert sorted(a.status_code for a in answers) == [200] * 19 + [201]
    async with system_session(app.state.database, "test inspection") as session:
        faults = (await session.execute(select(Fault))).scalars().all()
    assert [f.occurrences for f in faults] == [20]
