"""Idempotency inside the request's transaction: the stored answer and the request's effects
commit together, before a byte of the response is sent. Shown by killing the database
connection at each step and counting rows and answers, and by replaying over a real socket
the instant the first answer arrives."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import Session as OrmSession

from app.core.idempotency import IdempotencyKey
from app.core.tenancy import system_session
from app.outages.models import Outage
from tests.conftest import TEST_DATABASE_URL
from tests.helpers import PASSWORD, Api
from tests.live import live_server

pytestmark = pytest.mark.live

BODY = {"site_name": "Cell Tower Kill", "severity": "high", "services_affected": ["4G"]}


def _kill(connection: Any) -> None:
    """The backend ends itself (as the login user: the application role may not signal it)."""
    connection.exec_driver_sql("SET ROLE NONE")
    connection.exec_driver_sql("SELECT pg_terminate_backend(pg_backend_pid())")


class Killer:
    """Kills a request's database connection once, at one step of its unit of work."""

    def __init__(self, app: Any, step: str) -> None:
        self.step, self.armed = step, False
        session_class = app.state.database.session_class

        @event.listens_for(session_class, "after_begin")
        def _before_effects(session: OrmSession, _: Any, connection: Any) -> None:
            if self._fire(session, "before effects"):
                _kill(connection)

        @event.listens_for(session_class, "before_commit")
        def _before_commit(session: OrmSession) -> None:
            if self._fire(session, "between effects and commit"):
                _kill(session.connection())

    def _fire(self, session: OrmSession, step: str) -> bool:
        if self.armed and step == self.step and session.info.get("request_unit_of_work"):
            self.armed = False
            return True
        return False


async def _counts(app: Any) -> tuple[int, int]:
    async with system_session(app.state.database, "test inspection") as session:
        outages = (await session.execute(select(func.count()).select_from(Outage))).scalar_one()
        keys = (
            await session.execute(select(func.count()).select_from(IdempotencyKey))
        ).scalar_one()
    return outages, keys


async def _post_until_answered(api: Api, owner: Any, key: str) -> list[int]:
    """A client's retry loop: the same request and key until it gets a non-503 answer."""
    answers = []
    for _ in range(5):
        response = await api.post("/outages", owner, json=BODY, headers={"Idempotency-Key": key})
        answers.append(response.status_code)
        if response.status_code != 503:
            break
    return answers


@pytest.mark.parametrize("step", ["before effects", "between effects and commit"])
async def test_a_connection_killed_before_commit_leaves_nothing_and_the_retry_runs_once(
    app: Any, api: Api, step: str
) -> None:
    owner = await api.owner()
    killer = Killer(app, step)
    killer.armed = True
    key = "kill-" + step.replace(" ", "-")
    answers = await _post_until_answered(api, owner, key)
    assert answers == [503, 201]
    assert await _counts(app) == (1, 1)
    replay = await api.post("/outages", owner, json=BODY, headers={"Idempotency-Key": key})
    assert replay.status_code == 201 and replay.headers["idempotent-replayed"] == "true"
    assert await _counts(app) == (1, 1)


async def test_a_connection_killed_after_commit_keeps_both_and_the_retry_replays(
    app: Any, api: Api
) -> None:
    """The commit landed, then every connection of the service died (and the answer may
    never have reached the client): the retry meets a dead connection (503) and then
    replays the stored answer. One outage, one record."""
    owner = await api.owner()
    first = await api.post("/outages", owner, json=BODY, headers={"Idempotency-Key": "kill-after"})
    assert first.status_code == 201
    admin = create_async_engine(TEST_DATABASE_URL)
    async with admin.connect() as connection:
        await connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    await admin.dispose()
    answers = await _post_until_answered(api, owner, "kill-after")
    assert answers[-1] == 201 and set(answers[:-1]) <= {503}
    assert await _counts(app) == (1, 1)


def test_a_replay_sent_the_instant_the_first_answer_arrives_replays_it() -> None:
    with (
        live_server({"RATE_LIMIT_ENABLED": "false"}) as base,
        httpx.Client(base_url=base + "/api/v1", timeout=10) as http,
    ):
        email = "instant@example.com"
        http.post("/auth/register", json={"email": email, "password": PASSWORD})
        token = http.post("/auth/login", json={"email": email, "password": PASSWORD}).json()
        auth = {"Authorization": f"Bearer {token['access_token']}"}
        for attempt in range(20):
            headers = {**auth, "Idempotency-Key": f"instant-{attempt}"}
            first = http.post("/outages", json=BODY, headers=headers)
            again = http.post("/outages", json=BODY, headers=headers)
            assert first.status_code == 201, first.text
            assert again.status_code == 201, (attempt, again.text)
            assert again.headers["idempotent-replayed"] == "true"
            assert again.json() == first.json()
        listed = http.get("/outages", headers=auth, params={"limit": 100}).json()
        assert listed["total"] == 20
