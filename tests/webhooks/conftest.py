from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from app.core.clock import utcnow
from app.core.tenancy import system_session
from app.jobs.models import Job
from tests.conftest import WorkerApps
from tests.helpers import Api, Session
from tests.receivers import Receiver


@pytest.fixture
async def app(worker_apps: WorkerApps) -> AsyncIterator[Any]:
    """The suite's own receivers listen on 127.0.0.1: private targets are allowed here only."""
    async with worker_apps.serve(
        webhook_allow_private_targets=True, webhook_timeout_seconds=1
    ) as application:
        yield application


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as served:
        yield served


async def subscribe(
    api: Api, owner: Session, url: str, events: list[str] | None = None, **extra: Any
) -> dict[str, Any]:
    body = {"name": "ops hooks", "url": url, "events": events or ["*"], **extra}
    response = await api.post("/webhooks", owner, json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def run_due(app: Any, *, retries_now: bool = False) -> int:
    """Runs every due job; with `retries_now`, jobs waiting for their backoff too."""
    if retries_now:
        async with system_session(app.state.database, "test inspection") as session:
            await session.execute(
                update(Job)
                .where(Job.status == "queued")
                .values(run_at=utcnow() - timedelta(seconds=1))
            )
            await session.commit()
    return int(await app.state.executor.drain())
