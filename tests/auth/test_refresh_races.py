"""Refresh-token rotation under concurrency: uses of one token take turns on its session's
lock, so a stolen token racing the real client ends the session instead of slipping by."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select

from app.core.tenancy import system_session
from app.journal.models import AuditLog
from tests.helpers import PREFIX, Api, make_client

USES = 8


async def _refresh(app: Any, token: str) -> Any:
    """From a client of its own (another address: the per-address limit is not the subject)."""
    async with make_client(app) as client:
        return await client.post(f"{PREFIX}/auth/refresh", json={"refresh_token": token})


async def test_concurrent_uses_of_one_refresh_token_give_one_pair_and_end_the_session(
    app: Any, api: Api
) -> None:
    owner = await api.owner()
    answers = await asyncio.gather(*(_refresh(app, owner.refresh_token) for _ in range(USES)))
    statuses = sorted(response.status_code for response in answers)
    assert statuses == [200] + [401] * (USES - 1), [r.text for r in answers]
    winner = next(response.json() for response in answers if response.status_code == 200)
    # The reuse ended the session: the winner's new pair is dead too.
    assert (await _refresh(app, winner["refresh_token"])).status_code == 401
    me = await api.client.get(
        f"{PREFIX}/auth/me", headers={"Authorization": f"Bearer {winner['access_token']}"}
    )
    assert me.status_code == 401
    async with system_session(app.state.database, "test inspection") as session:
        reused = await session.execute(
            select(AuditLog.id).where(AuditLog.event_type == "auth.refresh_token_reused")
        )
        assert len(reused.all()) == 1


async def test_logout_racing_refresh_never_leaves_a_live_session(app: Any) -> None:
    for _ in range(5):
        async with make_client(app) as client:
            api = Api(client)
            owner = await api.owner()
            logout, refreshed = await asyncio.gather(
                api.post("/auth/logout", owner), _refresh(app, owner.refresh_token)
            )
            assert logout.status_code == 200, logout.text
            assert refreshed.status_code in (200, 401), refreshed.text
            if refreshed.status_code == 200:
                pair = refreshed.json()
                me = await client.get(
                    f"{PREFIX}/auth/me", headers={"Authorization": f"Bearer {pair['access_token']}"}
                )
                assert me.status_code == 401
                assert (await _refresh(app, pair["refresh_token"])).status_code == 401
