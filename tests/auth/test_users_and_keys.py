"""Managing users and API keys: roles, the last owner, tenancy, mass assignment."""

from typing import Any

import pytest

from app.core.routing import APIRouter
from app.identity.dependencies import Principal, requires
from app.identity.roles import Role
from tests.helpers import PASSWORD, Api, assert_error, make_app, make_client, unique_email


async def test_nobody_grants_a_role_above_their_own(api: Api) -> None:
    owner = await api.owner()
    admin = await api.member(owner, "admin")
    body = {"email": unique_email(), "password": PASSWORD, "role": "owner"}
    assert_error(await api.post("/users", admin, json=body), 403, "FORBIDDEN")
    admin_made = await api.post("/users", admin, json={**body, "role": "admin"})
    assert admin_made.status_code == 201
    promote = await api.patch(f"/users/{admin.user['id']}", admin, json={"role": "owner"})
    assert_error(promote, 403, "FORBIDDEN")
    owner_id = owner.user["id"]
    assert_error(
        await api.patch(f"/users/{owner_id}", admin, json={"role": "viewer"}), 403, "FORBIDDEN"
    )


async def test_the_last_owner_cannot_be_removed_or_demoted(api: Api) -> None:
    owner = await api.owner()
    me = owner.user["id"]
    assert_error(await api.delete(f"/users/{me}", owner), 409, "CONFLICT")
    assert_error(await api.patch(f"/users/{me}", owner, json={"role": "admin"}), 409, "CONFLICT")
    assert_error(await api.patch(f"/users/{me}", owner, json={"is_active": False}), 409, "CONFLICT")
    second = await api.member(owner, "owner")
    assert (await api.patch(f"/users/{me}", second, json={"role": "admin"})).status_code == 200


@pytest.mark.parametrize("role", ["viewer", "engineer", "operator"])
async def test_lower_roles_cannot_manage_users_or_keys(api: Api, role: str) -> None:
    owner = await api.owner()
    member = await api.member(owner, role)
    assert_error(await api.get("/users", member), 403, "FORBIDDEN")
    body = {"email": unique_email(), "password": PASSWORD}
    assert_error(await api.post("/users", member, json=body), 403, "FORBIDDEN")
    assert_error(await api.post("/api-keys", member, json={"name": "k"}), 403, "FORBIDDEN")


async def test_another_organizations_ids_are_404_and_absent_from_lists(api: Api) -> None:
    owner, intruder = await api.owner(), await api.owner()
    member = await api.member(owner, "engineer")
    key = (await api.post("/api-keys", owner, json={"name": "ingest"})).json()
    member_id = member.user["id"]
    assert_error(
        await api.patch(f"/users/{member_id}", intruder, json={"full_name": "x"}), 404, "NOT_FOUND"
    )
    assert_error(await api.delete(f"/users/{member_id}", intruder), 404, "NOT_FOUND")
    assert_error(await api.delete(f"/api-keys/{key['id']}", intruder), 404, "NOT_FOUND")
    listed = (await api.get("/users", intruder)).json()
    assert [u["id"] for u in listed["results"]] == [intruder.user["id"]]
    assert (await api.get("/api-keys", intruder)).json()["total"] == 0
    # and nothing changed for the rightful owner
    assert (await api.get("/auth/me", member)).json()["full_name"] is None


async def test_mass_assignment_is_refused_or_ignored(api: Api) -> None:
    owner = await api.owner()
    other = await api.owner()
    registered = await api.register(
        role="admin", is_admin=True, organization_id=other.organization_id
    )
    assert registered["role"] == "owner"
    assert registered["organization_id"] != other.organization_id
    member = await api.member(owner, "viewer")
    for field, value in (
        ("organization_id", other.organization_id),
        ("is_admin", True),
        ("email", "new@example.com"),
        ("password_hash", "x"),
    ):
        response = await api.patch(f"/users/{member.user['id']}", owner, json={field: value})
        assert_error(response, 422, "VALIDATION_ERROR")
    response = await api.post(
        "/api-keys", owner, json={"name": "k", "organization_id": other.organization_id}
    )
    assert_error(response, 422, "VALIDATION_ERROR")
    me = (await api.get("/auth/me", member)).json()
    assert me["organization_id"] == owner.organization_id and me["role"] == "viewer"


async def test_api_keys_are_shown_once_stored_hashed_and_revocable(api: Api) -> None:
    owner = await api.owner()
    created = await api.post("/api-keys", owner, json={"name": "probe-fleet", "role": "engineer"})
    assert created.status_code == 201
    key = created.json()
    assert key["key"].startswith("acx_") and key["key_prefix"] == key["key"][:12]
    listed = (await api.get("/api-keys", owner)).json()["results"]
    assert listed[0]["id"] == key["id"] and "key" not in listed[0]
    too_high = await api.post("/api-keys", owner, json={"name": "x", "role": "admin"})
    assert_error(too_high, 422, "VALIDATION_ERROR")
    assert (await api.delete(f"/api-keys/{key['id']}", owner)).status_code == 204
    assert (await api.get("/api-keys", owner)).json()["results"][0]["revoked_at"] is not None


async def test_api_keys_work_on_intake_routes_only_and_not_once_revoked() -> None:
    app = make_app()
    intake = APIRouter()

    @intake.post("/intake-probe")
    async def probe(principal: Principal = requires(Role.engineer, api_key=True)) -> Any:
        return {"organization_id": principal.organization_id, "kind": principal.kind}

    app.include_router(intake, prefix="/api/v1")
    async with app.router.lifespan_context(app), make_client(app) as http:
        api = Api(http)
        owner = await api.owner()
        key = (await api.post("/api-keys", owner, json={"name": "fleet"})).json()
        headers = {"X-API-Key": key["key"]}
        ok = await http.post("/api/v1/intake-probe", headers=headers)
        assert ok.json() == {"organization_id": owner.organization_id, "kind": "api_key"}
        assert_error(await http.get("/api/v1/auth/me", headers=headers), 401, "UNAUTHORIZED")
        keys = (await api.get("/api-keys", owner)).json()["results"]
        assert keys[0]["last_used_at"] is not None
        await api.delete(f"/api-keys/{key['id']}", owner)
        revoked = await http.post("/api/v1/intake-probe", headers=headers)
        assert_error(revoked, 401, "UNAUTHORIZED")
        wrong = await http.post("/api/v1/intake-probe", headers={"X-API-Key": "acx_nope"})
        assert_error(wrong, 401, "UNAUTHORIZED")


async def test_an_api_key_is_also_accepted_as_a_bearer_token(api: Api) -> None:
    """The Altostrat seed's clients send `Authorization: Bearer <API key>`; the key's prefix
    tells it from a JWT. Where API keys are not admitted it is refused as any key is."""
    owner = await api.owner()
    key = (await api.post("/api-keys", owner, json={"name": "nms"})).json()["key"]
    bearer = {"Authorization": f"Bearer {key}"}
    fault = {
        "resource_id": "dev_1",
        "microservice_id": "nms",
        "type": "link-down",
        "severity": "HIGH",
        "message": "Link down",
        "cause": "Fibre cut",
    }
    created = await api.client.post("/api/v1/faults", json=fault, headers=bearer)
    assert created.status_code == 201, created.text
    assert created.json()["customer_id"] == owner.organization_id
    assert_error(await api.client.get("/api/v1/auth/me", headers=bearer), 401, "UNAUTHORIZED")
    wrong = {"Authorization": "Bearer acx_not-a-key"}
    assert_error(
        await api.client.post("/api/v1/faults", json=fault, headers=wrong), 401, "UNAUTHORIZED"
    )
