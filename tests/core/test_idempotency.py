"""Idempotency keys: replay, mismatch, in flight, expiry, scope."""

from datetime import timedelta
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import create_async_engine

from app.core.clock import utcnow
from app.core.idempotency import IdempotencyKey, Reservation, _lock_id
from app.core.tenancy import system_session
from app.identity.models import User
from tests.conftest import TEST_DATABASE_URL
from tests.helpers import PASSWORD, assert_error, unique_email


def _user_body() -> dict[str, Any]:
    return {"email": unique_email("member"), "password": PASSWORD, "role": "viewer"}


async def _count_users(app: Any, email: str) -> int:
    async with system_session(app.state.database, "test inspection") as session:
        rows = await session.execute(select(User).where(User.email == email))
        return len(rows.scalars().all())


async def test_same_key_and_body_replays_the_first_response(api: Any, app: Any) -> None:
    owner = await api.owner()
    body = _user_body()
    headers = {"Idempotency-Key": "create-member-1"}
    first = await api.post("/users", owner, json=body, headers=headers)
    second = await api.post("/users", owner, json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert await _count_users(app, body["email"]) == 1


async def test_x_idempotency_key_is_the_same_header(api: Any, app: Any) -> None:
    owner = await api.owner()
    body = _user_body()
    first = await api.post("/users", owner, json=body, headers={"Idempotency-Key": "k-2"})
    second = await api.post("/users", owner, json=body, headers={"X-Idempotency-Key": "k-2"})
    assert second.headers["idempotent-replayed"] == "true"
    assert second.json()["id"] == first.json()["id"]


async def test_same_key_with_a_different_body_is_422_and_changes_nothing(
    api: Any, app: Any
) -> None:
    owner = await api.owner()
    await api.post("/users", owner, json=_user_body(), headers={"Idempotency-Key": "k-3"})
    other = _user_body()
    response = await api.post("/users", owner, json=other, headers={"Idempotency-Key": "k-3"})
    assert_error(response, 422, "VALIDATION_ERROR")
    assert await _count_users(app, other["email"]) == 0


async def test_same_key_while_the_first_is_in_flight_is_409(api: Any, app: Any) -> None:
    """In flight means another transaction holds the key's lock (as the same request, still
    running on another instance, does): 409 and nothing done; once it ends, the key runs."""
    owner = await api.owner()
    body = _user_body()
    lock = _lock_id(Reservation(owner.organization_id, "k-4", ""))
    engine = create_async_engine(TEST_DATABASE_URL)
    async with engine.connect() as other:
        await other.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock})
        response = await api.post("/users", owner, json=body, headers={"Idempotency-Key": "k-4"})
        assert_error(response, 409, "CONFLICT")
        assert await _count_users(app, body["email"]) == 0
        await other.rollback()
    await engine.dispose()
    response = await api.post("/users", owner, json=body, headers={"Idempotency-Key": "k-4"})
    assert response.status_code == 201
    assert await _count_users(app, body["email"]) == 1


def _fingerprint(principal_id: str, path: str, body: dict[str, Any]) -> str:
    import hashlib
    import json

    raw = json.dumps(body, separators=(",", ":")).encode()
    return hashlib.sha256(f"{principal_id} POST {path}\n".encode() + raw).hexdigest()


async def test_an_expired_key_runs_the_request_again(api: Any, app: Any) -> None:
    owner = await api.owner()
    first = _user_body()
    await api.post("/users", owner, json=first, headers={"Idempotency-Key": "k-5"})
    async with system_session(app.state.database, "test inspection") as session:
        await session.execute(
            update(IdempotencyKey).values(expires_at=utcnow() - timedelta(seconds=1))
        )
        await session.commit()
    second = _user_body()
    response = await api.post("/users", owner, json=second, headers={"Idempotency-Key": "k-5"})
    assert response.status_code == 201
    assert "idempotent-replayed" not in response.headers
    assert await _count_users(app, second["email"]) == 1


async def test_keys_are_scoped_per_organization(api: Any, app: Any) -> None:
    first_owner, second_owner = await api.owner(), await api.owner()
    a, b = _user_body(), _user_body()
    ra = await api.post("/users", first_owner, json=a, headers={"Idempotency-Key": "shared"})
    rb = await api.post("/users", second_owner, json=b, headers={"Idempotency-Key": "shared"})
    assert ra.status_code == rb.status_code == 201
    assert "idempotent-replayed" not in rb.headers
    assert await _count_users(app, b["email"]) == 1


async def test_a_failed_request_is_stored_and_replayed_too(api: Any) -> None:
    owner = await api.owner()
    body = {**_user_body(), "role": "owner", "password": "short"}
    first = await api.post("/users", owner, json=body, headers={"Idempotency-Key": "k-6"})
    second = await api.post("/users", owner, json=body, headers={"Idempotency-Key": "k-6"})
    assert first.status_code == second.status_code == 422
    assert second.headers["idempotent-replayed"] == "true"


async def test_a_malformed_key_is_422(api: Any) -> None:
    owner = await api.owner()
    response = await api.post(
        "/users", owner, json=_user_body(), headers={"Idempotency-Key": "x" * 256}
    )
    assert_error(response, 422, "VALIDATION_ERROR")


async def test_stored_responses_are_encrypted_at_rest(api: Any, app: Any) -> None:
    owner = await api.owner()
    created = await api.post("/users", owner, json=_user_body(), headers={"Idempotency-Key": "k-7"})
    email = created.json()["email"]
    async with system_session(app.state.database, "test inspection") as session:
        record = (await session.execute(select(IdempotencyKey))).scalar_one()
    assert record.response_body is not None
    assert email.encode() not in record.response_body


async def test_the_sweep_purges_expired_keys_only(api: Any, app: Any) -> None:
    owner = await api.owner()
    for key in ("old", "fresh"):
        await api.post("/users", owner, json=_user_body(), headers={"Idempotency-Key": key})
    async with system_session(app.state.database, "test inspection") as session:
        await session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.key == "old")
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        await session.commit()
    await app.state.executor.run_due_sweeps()
    async with system_session(app.state.database, "test inspection") as session:
        keys = (await session.execute(select(IdempotencyKey.key))).scalars().all()
    assert keys == ["fresh"]
