"""Runs one job: claim, run the handler, record the outcome. Shared by both executors.

While the handler runs, a heartbeat moves the job's lease forward, so the lease can be short:
a job whose worker died, or whose outcome could not be written, is claimed again within
seconds of its last heartbeat rather than after a long fixed lease (record 0016).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import correlation
from app.core.db import Database
from app.core.tenancy import system_session, tenant_session
from app.jobs import service
from app.jobs.models import Job
from app.jobs.registry import kind_of

log = structlog.get_logger(__name__)
HEARTBEATS_PER_LEASE = 3
# Writing a failed attempt's outcome is tried again on a fresh connection: a dropped
# connection fails the handler and, often, the first write after it (the pool hands out
# another connection of the same dead batch before it learns they are gone).
OUTCOME_WRITE_DELAYS = (0.0, 0.25, 1.0, 2.0)


async def run_job(database: Database, job_id: str, *, worker: str, lease_seconds: int) -> bool:
    """True when this call claimed and ran the job (whatever its outcome)."""
    async with system_session(database, "claim a job") as session:
        job = await service.claim(session, job_id, worker=worker, lease_seconds=lease_seconds)
        await session.commit()
    if job is None:
        return False
    correlation.set_correlation_id(job.correlation_id)
    try:
        async with _heartbeat(database, job, lease_seconds):
            await _execute(database, job)
    except asyncio.CancelledError:
        # Shutdown cut the job off: hand it back at once (not counted as an attempt) rather
        # than leaving it to wait for its lease to lapse.
        await asyncio.shield(_release(database, job))
        raise
    finally:
        correlation.set_correlation_id(None)
    return True


@contextlib.asynccontextmanager
async def _heartbeat(database: Database, job: Job, lease_seconds: int) -> AsyncIterator[None]:
    beating = asyncio.create_task(_beat(database, job, lease_seconds), name=f"lease-{job.id}")
    try:
        yield
    finally:
        beating.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beating


async def _beat(database: Database, job: Job, lease_seconds: int) -> None:
    interval = lease_seconds / HEARTBEATS_PER_LEASE
    while True:
        await asyncio.sleep(interval)
        try:
            async with system_session(database, "renew a job's lease") as session:
                held = await service.renew_lease(session, job, lease_seconds)
                await session.commit()
        except Exception as exc:  # the database is away: the lease lapses, as it should
            log.warning("job_lease_not_renewed", job_id=job.id, error=type(exc).__name__)
            continue
        if not held:
            log.warning("job_claim_lost", job_id=job.id, kind=job.kind)
            return


def _session_for(database: Database, job: Job) -> AbstractAsyncContextManager[AsyncSession]:
    """A tenant's job runs inside its organization; a system job (a sweep) crosses them."""
    if job.organization_id is not None:
        return tenant_session(database, job.organization_id)
    return system_session(database, f"system job {job.kind}")


async def _release(database: Database, job: Job) -> None:
    async with _session_for(database, job) as session:
        await service.release(session, job.id)
        await session.commit()
    log.info("job_released", job_id=job.id, kind=job.kind)


async def _execute(database: Database, job: Job) -> None:
    kind = kind_of(job.kind)
    try:
        async with _session_for(database, job) as session:
            if kind is None:
                raise LookupError(f"no handler for job kind {job.kind!r}")
            result = await kind.handler(session, job)
            if not await service.mark_succeeded(session, job, result):
                await session.rollback()
                log.warning("job_claim_lost", job_id=job.id, kind=job.kind)
                return
            await session.commit()
        log.info("job_succeeded", job_id=job.id, kind=job.kind, attempt=job.attempts)
    except Exception as exc:
        status = await _record_failure(database, job, exc)
        log.warning(
            "job_failed",
            job_id=job.id,
            kind=job.kind,
            attempt=job.attempts,
            status=status,
            error=type(exc).__name__,
        )


async def _record_failure(database: Database, job: Job, error: Exception) -> str | None:
    """The retry (or `dead`) is written at once when the database answers; when it does not,
    the heartbeat stops with this job and its short lease hands it to the next claim."""
    for delay in OUTCOME_WRITE_DELAYS:
        await asyncio.sleep(delay)
        try:
            async with _session_for(database, job) as session:
                status = await service.mark_failed(session, job, error)
                await session.commit()
            return status
        except Exception as exc:
            log.warning("job_outcome_not_written", job_id=job.id, error=type(exc).__name__)
    return None
