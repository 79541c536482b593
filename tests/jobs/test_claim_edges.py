"""Job claims: a lost claim, a job that keeps killing its worker.

Each test failed before its fix."""

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from app.core.clock import utcnow
from app.core.tenancy import system_session
from app.jobs import service as jobs
from app.jobs.models import Job
from app.jobs.registry import job_handler

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
