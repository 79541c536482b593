"""A secret shown once (API key, webhook secret, share token, wallet seed) is never stored,
not even encrypted: an idempotent replay answers the same resource with the secret withheld,
says so, and never creates a second one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from app.core.crypto import fernet
from app.core.idempotency import IdempotencyKey
from app.core.tenancy import system_session
from tests.conftest import WorkerApps
from tests.helpers import Api, Session
from tests.receivers import Receiver


@pytest.fixture
async def app(worker_apps: WorkerApps) -> AsyncIterator[Any]:
    """Webhooks to the suite's receivers on 127.0.0.1 are allowed here."""
    async with worker_apps.serve(webhook_allow_private_targets=True) as application:
        yield application


async def _post_twice(api: Api, owner: Session, path: str, body: dict[str, Any]) -> Any:
    headers = {"Idempotency-Key": "shown-once-" + path.strip("/").replace("/", "-")}
    first = await api.post(path, owner, json=body, headers=headers)
    replay = await api.post(path, owner, json=body, headers=headers)
    assert first.status_code in (200, 201), first.text
    assert first.headers["cache-control"] == "no-store"
    assert replay.status_code == first.status_code
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.headers["idempotent-secret-withheld"] == "true"
    return first.json(), replay.json()


async def _stored_bodies(app: Any) -> list[bytes]:
    async with system_session(app.state.database, "test inspection") as session:
        rows = (await session.execute(select(IdempotencyKey))).scalars().all()
    cipher = fernet(app.state.settings, "idempotency")
    return [cipher.decrypt(row.response_body) for row in rows if row.response_body]


async def test_an_api_key_is_never_replayed_nor_created_twice(app: Any, api: Api) -> None:
    owner = await api.owner()
    first, replay = await _post_twice(api, owner, "/api-keys", {"name": "fleet"})
    assert first["key"].startswith(first["key_prefix"])
    assert replay == {**first, "key": None}
    keys = (await api.get("/api-keys", owner)).json()
    assert keys["total"] == 1
    assert all(first["key"].encode() not in body for body in await _stored_bodies(app))


async def test_webhook_secrets_and_share_tokens_are_withheld_on_replay(app: Any, api: Api) -> None:
    owner = await api.owner()
    with Receiver() as receiver:
        hook, replay = await _post_twice(
            api, owner, "/webhooks", {"name": "ops", "url": receiver.url, "events": ["*"]}
        )
        assert hook["secret"].startswith("whsec_") and replay == {**hook, "secret": None}
        rotated, replay = await _post_twice(api, owner, f"/webhooks/{hook['id']}/rotate-secret", {})
        assert rotated["secret"] != hook["secret"] and replay["secret"] is None
    token, replay = await _post_twice(api, owner, "/faults/tokens", {"expires_in_minutes": 5})
    assert token["token"] and replay == {**token, "token": None}
    secrets = (hook["secret"], rotated["secret"], token["token"])
    for body in await _stored_bodies(app):
        assert not any(secret.encode() in body for secret in secrets)
    assert (await api.get("/webhooks", owner)).json()["total"] == 1
