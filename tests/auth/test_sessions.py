"""Login, lockout, refresh rotation, replay, logout."""

from typing import Any

import bcrypt
from sqlalchemy import select, update

from app.core.tenancy import system_session
from app.identity.models import LoginThrottle, User
from tests.helpers import (
    PASSWORD,
    Api,
    assert_error,
    make_app,
    make_client,
    start_of_a_fresh_window,
)


async def test_registration_makes_an_owner_of_a_new_organization_ignoring_role(
    api: Api,
) -> None:
    user = await api.register(role="viewer", organization_name="Acme")
    assert user["role"] == "owner" and user["organization_id"].startswith("org_")
    me = (await api.get("/auth/me", await api.login(user["email"]))).json()
    assert me["organization"]["name"] == "Acme"


async def test_registration_applies_the_password_policy(api: Api) -> None:
    for weak in (
        "Short-1a!",
        "alllowercase-123!",
        "ALLUPPERCASE-123!",
        "No-Digits-Here!",
        "NoSpecial12345",
        "A1!" + "a" * 126,
    ):
        response = await api.post(
            "/auth/register", json={"email": "weak@example.com", "password": weak}
        )
        assert_error(response, 422, "VALIDATION_ERROR")


async def test_a_second_registration_with_the_same_email_is_409(api: Api) -> None:
    user = await api.register()
    response = await api.post(
        "/auth/register", json={"email": user["email"].upper(), "password": PASSWORD}
    )
    assert_error(response, 409, "CONFLICT")


async def test_unknown_email_and_wrong_password_look_the_same(api: Api) -> None:
    user = await api.register()
    wrong = await api.post("/auth/login", json={"email": user["email"], "password": "Wrong-1!aaaa"})
    unknown = await api.post(
        "/auth/login", json={"email": "nobody@example.com", "password": "Wrong-1!aaaa"}
    )
    assert wrong.status_code == unknown.status_code == 401

    def stable(response: Any) -> dict[str, Any]:
        error = response.json()["error"]
        return {k: v for k, v in error.items() if k not in {"timestamp", "correlation_id"}}

    assert stable(wrong) == stable(unknown)


async def test_five_failures_lock_the_account_with_retry_after(api: Api) -> None:
    user = await api.register()
    bad = {"email": user["email"], "password": "Wrong-pass-1!"}
    statuses = [(await api.post("/auth/login", json=bad)).status_code for _ in range(5)]
    assert statuses == [401] * 5
    locked = await api.post("/auth/login", json={"email": user["email"], "password": PASSWORD})
    assert_error(locked, 429, "RATE_LIMIT_EXCEEDED")
    assert 14 * 60 <= int(locked.headers["retry-after"]) <= 15 * 60 + 1
    owner = await _login_after_unlock(api, user["email"])
    events = (await api.get("/audit", owner, params={"event_type": "auth.account_locked"})).json()
    assert events["total"] == 1


async def _login_after_unlock(api: Api, email: str) -> Any:
    app = api.client._transport.app  # type: ignore[attr-defined]
    async with system_session(app.state.database, "test inspection") as session:
        await session.execute(update(LoginThrottle).values(locked_until=None))
        await session.commit()
    return await api.login(email)


async def test_a_success_resets_the_failure_counter(api: Api) -> None:
    user = await api.register()
    bad = {"email": user["email"], "password": "Wrong-pass-1!"}
    for _ in range(3):
        await api.post("/auth/login", json=bad)
    await api.login(user["email"])
    # Without the reset, the 5th failure overall (the 2nd here) would lock the account.
    statuses = [(await api.post("/auth/login", json=bad)).status_code for _ in range(4)]
    assert statuses == [401] * 4
    await api.login(user["email"])


async def test_ten_attempts_per_ip_in_five_minutes() -> None:
    app = make_app()
    async with app.router.lifespan_context(app), make_client(app) as http:
        start_of_a_fresh_window()
        statuses = [
            (
                await http.post(
                    "/api/v1/auth/login",
                    json={"email": f"nobody{i}@example.com", "password": "Wrong-pass-1!"},
                )
            ).status_code
            for i in range(11)
        ]
    assert statuses == [401] * 10 + [429]


async def test_refresh_rotates_and_a_replay_ends_the_whole_session(api: Api) -> None:
    owner = await api.owner()
    first = await api.post("/auth/refresh", json={"refresh_token": owner.refresh_token})
    assert first.status_code == 200
    rotated = first.json()
    assert rotated["refresh_token"] != owner.refresh_token
    replay = await api.post("/auth/refresh", json={"refresh_token": owner.refresh_token})
    assert_error(replay, 401, "UNAUTHORIZED")
    # The family is revoked: the rotated refresh token and every access token die with it.
    again = await api.post("/auth/refresh", json={"refresh_token": rotated["refresh_token"]})
    assert_error(again, 401, "UNAUTHORIZED")
    for token in (owner.access_token, rotated["access_token"]):
        response = await api.client.get(
            "/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}
        )
        assert_error(response, 401, "UNAUTHORIZED")
    fresh = await api.login(owner.email)
    events = (
        await api.get("/audit", fresh, params={"event_type": "auth.refresh_token_reused"})
    ).json()
    assert events["total"] == 1


async def test_logout_revokes_the_family_but_not_other_sessions(api: Api) -> None:
    owner = await api.owner()
    other_device = await api.login(owner.email)
    assert (await api.post("/auth/logout", owner)).status_code == 200
    assert (await api.get("/auth/me", owner)).status_code == 401
    refresh = await api.post("/auth/refresh", json={"refresh_token": owner.refresh_token})
    assert refresh.status_code == 401
    assert (await api.get("/auth/me", other_device)).status_code == 200


async def test_bcrypt_hashes_still_verify_and_are_rehashed_with_argon2id(
    api: Api, app: Any
) -> None:
    user = await api.register()
    legacy = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    async with system_session(app.state.database, "test inspection") as session:
        await session.execute(
            update(User).where(User.id == user["id"]).values(password_hash=legacy)
        )
        await session.commit()
    await api.login(user["email"])
    async with system_session(app.state.database, "test inspection") as session:
        stored = (
            await session.execute(select(User.password_hash).where(User.id == user["id"]))
        ).scalar_one()
    assert stored.startswith("$argon2id$")
    await api.login(user["email"])


async def test_a_deactivated_user_is_locked_out_at_once(api: Api) -> None:
    owner = await api.owner()
    member = await api.member(owner, "engineer")
    response = await api.patch(f"/users/{member.user['id']}", owner, json={"is_active": False})
    assert response.status_code == 200
    assert (await api.get("/auth/me", member)).status_code == 401
    relogin = await api.post("/auth/login", json={"email": member.email, "password": PASSWORD})
    assert relogin.status_code == 401


async def test_concurrent_registrations_of_one_email_create_one_account(api: Api) -> None:
    import asyncio

    body = {"email": "race@example.com", "password": PASSWORD}
    responses = await asyncio.gather(*[api.post("/auth/register", json=body) for _ in range(5)])
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(201) == 1 and set(statuses[1:]) == {409}
