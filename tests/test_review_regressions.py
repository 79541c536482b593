"""Regressions for defects an independent review found; each test failed before its fix."""

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import jwt
from sqlalchemy import select, update

from app.audit import service as audit
from app.auth.models import User
from app.config import Settings
from app.core.clock import utcnow
from app.core.tenancy import system_session
from app.jobs import service as jobs
from app.jobs.models import Job
from app.jobs.registry import job_handler
from tests.helpers import (
    PASSWORD,
    Api,
    assert_error,
    make_app,
    make_client,
    start_of_a_fresh_window,
)


async def test_random_api_keys_do_not_escape_the_per_ip_limit() -> None:
    app = make_app(rate_limit_unauthenticated_per_minute=5)
    async with app.router.lifespan_context(app), make_client(app) as http:
        statuses = [
            (
                await http.get("/api/v1/users", headers={"X-API-Key": f"acx_{uuid.uuid4()}"})
            ).status_code
            for _ in range(7)
        ]
    assert statuses == [401] * 5 + [429] * 2


async def test_forwarded_for_uses_the_proxy_appended_address() -> None:
    app = make_app(trusted_proxies=["127.0.0.0/8"])  # the test clients' own addresses
    async with app.router.lifespan_context(app), make_client(app) as http:
        bad = {"email": "nobody@example.com", "password": "Wrong-pass-1!"}
        start_of_a_fresh_window()
        statuses = [
            (
                await http.post(
                    "/api/v1/auth/login",
                    json=bad,
                    headers={"X-Forwarded-For": f"10.0.0.{i}, 203.0.113.9"},
                )
            ).status_code
            for i in range(11)
        ]
    assert statuses[-1] == 429


async def test_idempotency_keys_never_replay_to_another_user(api: Api) -> None:
    owner = await api.owner()
    other_admin = await api.member(owner, "admin")
    body = {"name": "fleet"}
    first = await api.post("/api-keys", owner, json=body, headers={"Idempotency-Key": "same"})
    second = await api.post(
        "/api-keys", other_admin, json=body, headers={"Idempotency-Key": "same"}
    )
    assert first.status_code == 201
    assert_error(second, 422, "VALIDATION_ERROR")
    assert first.json()["key"] not in second.text


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


async def test_verify_ignores_rows_appended_after_it_read_the_head(app: Any, api: Api) -> None:
    owner = await api.owner()
    database = app.state.database
    async with system_session(database, "test inspection") as reader:
        original = reader.execute

        async def execute_then_append(*args: Any, **kwargs: Any) -> Any:
            result = await original(*args, **kwargs)
            if not getattr(execute_then_append, "done", False):
                execute_then_append.done = True  # type: ignore[attr-defined]
                async with system_session(database, "test inspection") as writer:
                    await audit.record(
                        writer,
                        organization_id=owner.organization_id,
                        actor=audit.SYSTEM,
                        event_type="probe",
                    )
                    await writer.commit()
            return result

        reader.execute = execute_then_append  # type: ignore[method-assign]
        report = await audit.verify(reader, owner.organization_id, app.state.settings)
    assert report.valid, report.reason


CRASHES: list[str] = []


@job_handler("test.crash", max_attempts=2)
async def _crash(session: Any, job: Job) -> None:
    CRASHES.append(job.id)


async def test_a_lost_claim_cannot_overwrite_the_new_owner(app: Any) -> None:
    database = app.state.database
    async with system_session(database, "test inspection") as session:
        jobs.enqueue(session, "test.crash", {}, organization_id=None)
        await session.commit()
    async with system_session(database, "test inspection") as session:
        (job_id,) = await jobs.due_job_ids(session)
        stale = await jobs.claim(session, job_id, worker="a", lease_seconds=60)
        await session.execute(update(Job).values(lease_expires_at=utcnow() - timedelta(1)))
        fresh = await jobs.claim(session, job_id, worker="b", lease_seconds=60)
        await session.commit()
    assert stale is not None and fresh is not None
    async with system_session(database, "test inspection") as session:
        assert await jobs.mark_failed(session, stale, RuntimeError("late")) is None
        assert await jobs.mark_succeeded(session, stale, {}) is False
        await session.commit()
        job = (await session.execute(select(Job))).scalar_one()
    assert (job.status, job.locked_by, job.attempts) == ("running", "b", 2)


async def test_a_job_that_keeps_killing_its_worker_ends_dead(app: Any) -> None:
    database = app.state.database
    async with system_session(database, "test inspection") as session:
        jobs.enqueue(session, "test.crash", {}, organization_id=None)
        await session.commit()
    for worker in ("a", "b", "c"):
        async with system_session(database, "test inspection") as session:
            ids = await jobs.due_job_ids(session)
            if ids:
                await jobs.claim(session, ids[0], worker=worker, lease_seconds=60)
            await session.execute(update(Job).values(lease_expires_at=utcnow() - timedelta(1)))
            await session.commit()
    await jobs.reap_exhausted(database)
    async with system_session(database, "test inspection") as session:
        job = (await session.execute(select(Job))).scalar_one()
    assert (job.status, job.attempts) == ("dead", 2)
    assert "lease expired" in (job.last_error or "")


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


async def test_dates_at_the_edge_of_the_calendar_are_422(api: Api) -> None:
    owner = await api.owner()
    for value in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"):
        response = await api.get("/audit", owner, params={"start": value})
        assert_error(response, 422, "VALIDATION_ERROR")


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
    from app.auth.models import RefreshToken, TokenFamily

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
