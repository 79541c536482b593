"""Runs one job: claim, run the handler, record the outcome. Shared by both executors."""

from __future__ import annotations

import structlog
from sqlalchemy.exc import SQLAlchemyError

from app.core import correlation
from app.db import Database
from app.jobs import service
from app.jobs.registry import kind_of

log = structlog.get_logger(__name__)


async def run_job(database: Database, job_id: str, *, worker: str, lease_seconds: int) -> bool:
    """True when this call claimed and ran the job (whatever its outcome)."""
    async with database.sessionmaker() as session:
        job = await service.claim(session, job_id, worker=worker, lease_seconds=lease_seconds)
        await session.commit()
    if job is None:
        return False
    correlation.set_correlation_id(job.correlation_id)
    kind = kind_of(job.kind)
    try:
        async with database.sessionmaker() as session:
            if kind is None:
                raise LookupError(f"no handler for job kind {job.kind!r}")
            result = await kind.handler(session, job)
            await service.mark_succeeded(session, job, result)
            await session.commit()
        log.info("job_succeeded", job_id=job.id, kind=job.kind, attempt=job.attempts)
    except (Exception, SQLAlchemyError) as exc:
        async with database.sessionmaker() as session:
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
    finally:
        correlation.set_correlation_id(None)
    return True
