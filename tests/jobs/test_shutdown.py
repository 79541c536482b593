"""Graceful shutdown: a job cut off by the executor's stop is handed back, not left running."""

from __future__ import annotations

import asyncio
from typing import Any

from app.core.tenancy import system_session
from app.jobs import service
from app.jobs.executor import InlineExecutor
from app.jobs.models import Job
from app.jobs.registry import job_handler

SLOW = "tests.slow"


@job_handler(SLOW, max_attempts=3)
async def _slow(session: Any, job: Job) -> dict[str, Any]:
    await asyncio.sleep(30)
    return {}


async def test_stop_releases_the_job_in_progress(app: Any) -> None:
    database = app.state.database
    async with system_session(database, "test inspection") as session:
        job = service.enqueue(session, SLOW, {}, organization_id=None)
        await session.commit()
    executor = InlineExecutor(database, poll_interval=0.05, lease_seconds=300)
    executor.start()
    for _ in range(100):  # until the job is claimed and running
        async with system_session(database, "test inspection") as session:
            if (await session.get(Job, job.id)).status == "running":  # type: ignore[union-attr]
                break
        await asyncio.sleep(0.05)
    await executor.stop(grace_seconds=0.2)
    async with system_session(database, "test inspection") as session:
        released = await session.get(Job, job.id)
    assert released is not None
    assert (released.status, released.attempts, released.lease_expires_at) == ("queued", 0, None)
