"""Runs one job: claim, run the handler, record the outcome. Shared by both executors."""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import correlation
from app.core.tenancy import system_session, tenant_session
from app.db import Database
from app.jobs import service
from app.jobs.models import Job
from app.jobs.registry import kind_of

log = structlog.get_logger(__name__)


async def run_job(database: Database, job_id: str, *, worker: str, lease_seconds: int) -> bool:
    """True when this call claimed and ran the job (whatever its outcome)."""
    async with system_session(database, "claim a job") as session:
        job = await service.claim(session, job_id, worker=worker, lease_seconds=lease_seconds)
        await session.commit()
    if job is None:
        return False
    correlation.set_correlation_id(job.correlation_id)
    try:
        await _execute(database, job)
    except asyncio.CancelledError:
        # Shutdown cut the job off: hand it back at once (not counted as an attempt) rather
        # than leaving it to wait for its lease to lapse.
        await asyncio.shield(_release(database, job))
        raise
    finally:
        correlation.set_correlation_id(None)
    return True


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
        async with _session_for(database, job) as session:
            status = await service.mark_failed(session, job, exc)
            await session.commit()
        log.warning(
            "job_failed",
            job_id=job.id,
            kind=job.kind,
            attempt=job.attempts,
            status=status,
            error=type(exc).__name__,
        )
