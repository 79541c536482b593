"""Enqueue, claim, finish and retry jobs. Enqueue joins the caller's transaction (the outbox);
claim and finish run in sessions of their own."""

from __future__ import annotations

import traceback
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import utcnow
from app.core.correlation import get_correlation_id
from app.core.tenancy import system_session
from app.jobs.backoff import retry_delay_seconds
from app.jobs.models import Job, JobStatus
from app.jobs.registry import kind_of
from app.journal.journal import journal_of


class RetryLater(Exception):
    """Raised by a handler for an attempt that failed and should be tried again, no sooner
    than `after_seconds` when given (a `Retry-After`)."""

    def __init__(self, message: str, after_seconds: float | None = None) -> None:
        super().__init__(message)
        self.after_seconds = after_seconds


def enqueue(
    session: AsyncSession,
    kind: str,
    payload: dict[str, Any],
    *,
    organization_id: str | None,
    run_at: datetime | None = None,
) -> Job:
    """Adds the job to the caller's transaction: it exists if and only if the change that
    needs it commits."""
    registered = kind_of(kind)
    if registered is None:
        raise ValueError(f"unknown job kind {kind!r}")
    job = Job(
        organization_id=organization_id,
        kind=kind,
        queue=registered.queue,
        payload=payload,
        max_attempts=registered.max_attempts,
        run_at=run_at or utcnow(),
        correlation_id=get_correlation_id(),
    )
    session.add(job)
    journal_of(session).jobs.append(job)
    return job


def _claimable(now: datetime) -> Any:
    """Due and queued, or running with a lapsed lease (its worker died) and attempts left."""
    return or_(
        and_(Job.status == JobStatus.queued, Job.run_at <= now),
        and_(
            Job.status == JobStatus.running,
            Job.lease_expires_at < now,
            Job.attempts < Job.max_attempts,
        ),
    )


def _still_ours(job: Job) -> Any:
    """The claim this worker holds: a worker whose lease lapsed and was taken over must not
    overwrite the new owner's outcome."""
    return and_(
        Job.id == job.id,
        Job.status == JobStatus.running,
        Job.locked_by == job.locked_by,
        Job.attempts == job.attempts,
    )


async def due_job_ids(session: AsyncSession, limit: int = 100) -> list[str]:
    now = utcnow()
    rows = await session.execute(
        select(Job.id).where(_claimable(now)).order_by(Job.run_at, Job.id).limit(limit)
    )
    return list(rows.scalars())


async def claim(
    session: AsyncSession, job_id: str, *, worker: str, lease_seconds: int
) -> Job | None:
    """Atomically takes the job if it is due (or its lease ran out). A duplicated dispatch
    finds nothing to claim and does nothing."""
    now = utcnow()
    result = await session.execute(
        update(Job)
        .where(Job.id == job_id, _claimable(now))
        .values(
            status=JobStatus.running,
            attempts=Job.attempts + 1,
            lease_expires_at=now + timedelta(seconds=lease_seconds),
            locked_by=worker,
            last_attempt_at=now,
            updated_at=now,
        )
        .returning(Job)
        .execution_options(synchronize_session=False)
    )
    return result.scalar_one_or_none()


async def renew_lease(session: AsyncSession, job: Job, lease_seconds: int) -> bool:
    """The heartbeat of a running job: its lease moves forward while its worker lives. False
    when the claim was lost (the lease lapsed and another worker took the job)."""
    now = utcnow()
    renewed = await session.execute(
        update(Job)
        .where(_still_ours(job))
        .values(lease_expires_at=now + timedelta(seconds=lease_seconds))
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(renewed, "rowcount", 0))


async def mark_succeeded(session: AsyncSession, job: Job, result: dict[str, Any] | None) -> bool:
    """False when the claim was lost (lease lapsed and taken over): the caller rolls back."""
    now = utcnow()
    updated = await session.execute(
        update(Job)
        .where(_still_ours(job))
        .values(
            status=JobStatus.succeeded,
            result=result,
            finished_at=now,
            updated_at=now,
            lease_expires_at=None,
            last_error=None,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(updated, "rowcount", 0))


async def mark_failed(session: AsyncSession, job: Job, error: BaseException) -> str | None:
    """Schedules a retry with backoff, or `dead` after the last attempt. None when the claim
    was lost to another worker."""
    now = utcnow()
    message = "".join(traceback.format_exception_only(error)).strip()[:2000]
    if job.attempts >= job.max_attempts:
        values: dict[str, Any] = {"status": JobStatus.dead, "finished_at": now}
    else:
        delay = retry_delay_seconds(job.attempts)
        if isinstance(error, RetryLater) and error.after_seconds is not None:
            delay = max(delay, error.after_seconds)  # the other side asked for a pause
        values = {"status": JobStatus.queued, "run_at": now + timedelta(seconds=delay)}
    updated = await session.execute(
        update(Job)
        .where(_still_ours(job))
        .values(last_error=message, lease_expires_at=None, updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    return str(values["status"]) if getattr(updated, "rowcount", 0) else None


async def reap_exhausted(database: Any) -> int:
    """Jobs whose worker died on the last attempt (lease lapsed, no attempts left) are dead:
    a job that crashes its worker must not be retried forever."""
    now = utcnow()
    async with system_session(database, "reap jobs out of attempts") as session:
        result = await session.execute(
            update(Job)
            .where(
                Job.status == JobStatus.running,
                Job.lease_expires_at < now,
                Job.attempts >= Job.max_attempts,
            )
            .values(
                status=JobStatus.dead,
                finished_at=now,
                updated_at=now,
                last_error="the worker was lost during the last attempt (lease expired)",
            )
            .execution_options(synchronize_session=False)
        )
        await session.commit()
        return int(getattr(result, "rowcount", 0) or 0)


async def release(session: AsyncSession, job_id: str) -> None:
    """Hands a claimed job back (graceful shutdown) without counting the attempt as failed."""
    await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.running)
        .values(status=JobStatus.queued, lease_expires_at=None, attempts=Job.attempts - 1)
        .execution_options(synchronize_session=False)
    )


async def waiting_for(
    session: AsyncSession, organization_id: str, kind: str, key: str, value: str
) -> Job | None:
    """The organization's queued or running job of `kind` whose payload names `value` under
    `key` (the newest). Few jobs wait at a time: the status index keeps this cheap."""
    return (
        await session.execute(
            select(Job)
            .where(
                Job.status.in_((JobStatus.queued, JobStatus.running)),
                Job.organization_id == organization_id,
                Job.kind == kind,
                Job.payload[key].as_string() == value,
            )
            .order_by(Job.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
