"""The fault gateway (`/fault`): a collector written against seed 000 works unchanged. Its
example request, sent as documented with a Bearer API key, gets the seed's answers."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select, update

from app.core.clock import utcnow
from app.core.tenancy import system_session
from app.faults import service
from app.faults.models import Fault
from tests.helpers import Api

# Seed 000's `CreateFaultRequest` example, field for field.
SEED_REQUEST = {
    "resource_id": "dev_2j4k2l2j3k4l2j3k4",
    "microservice_id": "manual-api-entry",
    "type": "wan-degradation",
    "severity": "HIGH",
    "message": "WAN link latency high: Primary link (WAN1) latency is elevated",
    "cause": "Latency probe exceeded 250ms for 5 consecutive checks.",
    "resource_ancestry_path": "site_8a7b6c5d4e3f2g1h|dev_2j4k2l2j3k4l2j3k4",
}
SEED_FAULT_FIELDS = {
    "id",
    "resource_id",
    "customer_id",
    "microservice_id",
    "type",
    "status",
    "severity",
    "message",
    "cause",
    "created_at",
    "resolved_at",
    "resource_ancestry_path",
    "ttl",
    "comments",
}


async def api_key(api: Api, owner: Any, role: str = "engineer") -> str:
    response = await api.post("/api-keys", owner, json={"name": "collector", "role": role})
    assert response.status_code == 201, response.text
    return str(response.json()["key"])


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def assert_seed_error(response: httpx.Response, status: int, kind: str, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"type", "code", "message", "doc_url"}, body
    assert (body["type"], body["code"]) == (kind, code), body
    assert body["doc_url"] == f"http://testserver/docs/errors/{code}"
    return str(body["message"])


async def test_the_seed_example_creates_a_fault_and_a_repeat_is_201_too(api: Api) -> None:
    owner = await api.owner()
    key = await api_key(api, owner)
    first = await api.post("/fault", json=SEED_REQUEST, headers=bearer(key))
    assert first.status_code == 201, first.text
    fault = first.json()
    assert set(fault) >= SEED_FAULT_FIELDS
    assert fault["id"].startswith("flt_") and fault["customer_id"] == owner.organization_id
    assert (fault["status"], fault["severity"], fault["comments"]) == ("unresolved", "HIGH", [])
    assert fault["created_at"].endswith("Z") and fault["resolved_at"] is None
    # `ttl` is the Unix second the record expires: FAULT_TTL_DAYS (30) after the last report.
    assert 29 * 86400 < fault["ttl"] - utcnow().timestamp() <= 30 * 86400
    assert fault["folded"] is False

    again = await api.post("/fault", json=SEED_REQUEST, headers=bearer(key))
    assert again.status_code == 201, again.text
    assert again.json()["id"] == fault["id"] and again.json()["folded"] is True
    assert again.json()["occurrences"] == 2
    # The same fault through the API's own path.
    assert (await api.get(f"/faults/{fault['id']}", owner)).json()["occurrences"] == 2


async def test_the_site_and_recent_views(api: Api) -> None:
    owner = await api.owner()
    key = await api_key(api, owner)
    await api.post("/fault", json=SEED_REQUEST, headers=bearer(key))
    other = {**SEED_REQUEST, "resource_id": "dev_b", "resource_ancestry_path": "site_b|dev_b"}
    await api.post("/fault", json=other, headers=bearer(key))

    site = await api.get("/fault?site=site_8a7b6c5d4e3f2g1h", headers=bearer(key))
    assert site.status_code == 200, site.text
    assert [f["resource_id"] for f in site.json()["results"]] == ["dev_2j4k2l2j3k4l2j3k4"]
    recent = await api.get("/fault?recent=true", owner)
    assert [f["resource_id"] for f in recent.json()["results"]] == [
        "dev_b",
        SEED_REQUEST["resource_id"],
    ]
    viewer = await api.member(owner, "viewer")
    assert (await api.get("/fault", viewer)).json()["total"] == 2


async def test_errors_come_in_the_seed_form_with_its_status_codes(api: Api) -> None:
    owner = await api.owner()
    key = await api_key(api, owner)
    without_message = {k: v for k, v in SEED_REQUEST.items() if k != "message"}
    missing = await api.post("/fault", json=without_message, headers=bearer(key))
    message = assert_seed_error(missing, 400, "invalid_request_error", "parameter_missing")
    assert message == "The 'message' parameter is required for this request."

    bad = await api.post("/fault", json={**SEED_REQUEST, "severity": "high"}, headers=bearer(key))
    assert "'severity'" in assert_seed_error(bad, 400, "invalid_request_error", "parameter_invalid")
    broken = await api.post(
        "/fault",
        content=b"{not json",
        headers={**bearer(key), "Content-Type": "application/json"},
    )
    assert_seed_error(broken, 400, "invalid_request_error", "body_invalid")

    for headers in ({}, bearer("acx_not-a-key"), bearer("eyJ.not.a-token")):
        refused = await api.post("/fault", json=SEED_REQUEST, headers=headers)
        assert_seed_error(refused, 401, "authentication_error", "api_key_invalid")
    viewer = await api.member(owner, "viewer")
    denied = await api.post("/fault", viewer, json=SEED_REQUEST)
    assert_seed_error(denied, 403, "permission_error", "permission_denied")

    wrong_method = await api.delete("/fault", owner)
    assert_seed_error(wrong_method, 405, "invalid_request_error", "method_not_allowed")
    assert wrong_method.headers["allow"] == "GET, POST"
    # Nothing was stored by any of the refused requests.
    assert (await api.get("/faults", owner)).json()["total"] == 0
    # The API's own path keeps its envelope.
    assert "error" in (await api.post("/faults", owner, json=without_message)).json()


async def test_every_error_code_has_its_page(api: Api) -> None:
    page = await api.client.get("/docs/errors/parameter_missing")
    assert page.status_code == 200 and "parameter_missing" in page.text
    index = await api.client.get("/docs/errors")
    assert "api_key_invalid" in index.text and "permission_denied" in index.text
    assert (await api.client.get("/docs/errors/no_such_code")).status_code == 404


async def test_an_unresolved_fault_expires_when_no_report_repeats_it(api: Any, app: Any) -> None:
    owner = await api.owner()
    quiet = {**SEED_REQUEST, "severity": "LOW", "resource_id": "dev_quiet"}
    stale = (await api.post("/fault", owner, json=quiet)).json()
    # A HIGH fault opens an outage: while it is open, the fault is part of its story.
    of_open_outage = (await api.post("/fault", owner, json=SEED_REQUEST)).json()
    assert of_open_outage["opened_outage"] is True
    expired = [stale["id"], of_open_outage["id"]]
    async with system_session(app.state.database, "test") as session:
        await session.execute(update(Fault).where(Fault.id.in_(expired)).values(ttl=1))
        await session.commit()
    await service.purge_expired(app.state.database)
    async with system_session(app.state.database, "test") as session:
        left = await session.execute(select(Fault.id).where(Fault.id.in_(expired)))
        assert set(left.scalars()) == {of_open_outage["id"]}
