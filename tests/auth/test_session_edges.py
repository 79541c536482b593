"""Sign-in and sessions at the edges: lockouts, owners, emails, token claims, refresh rotation.

Each test failed before its fix."""

import asyncio
from typing import Any

import jwt
from sqlalchemy import select

from app.config import Settings
from app.core.tenancy import system_session
from app.identity.models import User
from tests.helpers import (
    PASSWORD,
    Api,
    assert_error,
    make_client,
)


async def test_unknown_emails_lock_out_like_known_ones(api: Api, app: Any) -> None:
    user = await api.register()
    for email in (user["email"], "nobody-at-all@example.com"):
        async with make_client(app) as http:  # a fresh address: the per-IP limit stays out
            bad = {"email": email, "password": "Wrong-pass-1!"}
            statuses = [
                (await http.post("/api/v1/auth/login", json=bad)).status_code for _ in range(6)
            ]
        assert statuses == [401] * 5 + [429], email


async def test_two_owners_demoting_each_other_leave_one_owner(api: Api) -> None:
    for _ in range(3):
        first = await api.owner()
        second = await api.member(first, "owner")
        await asyncio.gather(
            api.patch(f"/users/{second.user['id']}", first, json={"role": "admin"}),
            api.patch(f"/users/{first.user['id']}", second, json={"role": "admin"}),
        )
        users = (await api.get("/users", first)).json()["results"]
        assert [u["role"] for u in users].count("owner") == 1


async def test_long_and_growing_emails_are_422_not_500(api: Api) -> None:
    long_local = "a" * 309 + "@example.com"  # 321 characters
    response = await api.post("/auth/register", json={"email": long_local, "password": PASSWORD})
    assert_error(response, 422, "VALIDATION_ERROR")
    growing = "İ" * 300 + "@ex.com"
    response = await api.post("/auth/register", json={"email": growing, "password": PASSWORD})
    assert_error(response, 422, "VALIDATION_ERROR")
    ok = "b" * 250 + "@example.com"  # valid and longer than an organization name may be
    assert (
        await api.post("/auth/register", json={"email": ok, "password": PASSWORD})
    ).status_code == 201


async def test_tokens_without_audience_or_issuer_are_refused(api: Api) -> None:
    owner = await api.owner()
    claims = jwt.decode(owner.access_token, options={"verify_signature": False})
    for missing in ("aud", "iss"):
        forged = jwt.encode(
            {k: v for k, v in claims.items() if k != missing},
            Settings().secret_key,
            algorithm="HS256",
        )
        response = await api.client.get(
            "/api/v1/auth/me", headers={"Authorization": f"Bearer {forged}"}
        )
        assert_error(response, 401, "UNAUTHORIZED")


async def test_refresh_rotation_does_not_extend_the_session(api: Api, app: Any) -> None:
    owner = await api.owner()
    async with system_session(app.state.database, "test inspection") as session:
        user = (await session.execute(select(User).where(User.email == owner.email))).scalar_one()
    first = (await api.post("/auth/refresh", json={"refresh_token": owner.refresh_token})).json()
    second = (
        await api.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    ).json()
    from app.identity.models import RefreshToken, TokenFamily

    async with system_session(app.state.database, "test inspection") as session:
        family = (
            await session.execute(select(TokenFamily).where(TokenFamily.user_id == user.id))
        ).scalar_one()
        expiries = set((await session.execute(select(RefreshToken.expires_at))).scalars())
    assert expiries == {family.expires_at}
    assert second["refresh_token"] != first["refresh_token"]


async def test_a_replayed_refresh_token_ends_the_session_even_when_locked(api: Api) -> None:
    owner = await api.owner()
    rotated = (await api.post("/auth/refresh", json={"refresh_token": owner.refresh_token})).json()
    for _ in range(5):
        await api.post("/auth/login", json={"email": owner.email, "password": "Wrong-pass-1!"})
    replay = await api.post("/auth/refresh", json={"refresh_token": owner.refresh_token})
    assert_error(replay, 401, "UNAUTHORIZED")
    after = await api.client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {rotated['access_token']}"}
    )
    assert after.status_code == 401
