"""Handing jobs to Celery: right after commit, on retry, and again from beat for any job whose
message was lost (Redis down at commit time, a worker that died holding a lease)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import and_, or_, select, update

from app.config import Settings
from app.core.clock import utcnow
from app.core.db import Database
from app.core.tenancy import system_session
from app.jobs.models import Job, JobStatus

log = structlog.get_logger(__name__)
TASK = "apexchainx.run_job"


def broker_url(settings: Settings) -> str:
    return settings.celery_broker_url or settings.redis_url or "redis://127.0.0.1:6379/0"


def celery_client(settings: Settings) -> Any:
    """A Celery app that only publishes (the API process): tasks are sent by name."""
    from celery import Celery

    client = Celery("apexchainx", broker=broker_url(settings))
    client.conf.broker_connection_timeout = 2
    client.conf.broker_connection_max_retries = 0
    return client


def send(celery_app: Any, jobs: Iterable[tuple[str, str]], *, eta: Any = None) -> int:
    """Publishes one message per job; a broker that does not answer is logged, not raised:
    the job row is safe and beat will dispatch it again."""
    sent = 0
    for job_id, queue in jobs:
        try:
            celery_app.send_task(TASK, args=[job_id], queue=queue, eta=eta, retry=False)
            sent += 1
        except Exception as exc:  # the broker is down: beat re-dispatches later
            log.warning("job_dispatch_failed", job_id=job_id, error=type(exc).__name__)
    return sent


def after_commit_dispatcher(celery_app: Any) -> Any:
    """The after-commit hook of the API under JOBS_EXECUTOR=celery: publishing is network I/O,
    so it runs in a thread, off the event loop."""

    def on_commit(jobs: list[tuple[str, str]]) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            send(celery_app, jobs)
            return
        loop.run_in_executor(None, send, celery_app, jobs)

    return on_commit


async def redispatch_due(database: Database, celery_app: Any, settings: Settings) -> int:
    """Queued jobs still waiting `jobs_redispatch_after_seconds` after they were due (and not
    re-sent within that time), and running jobs whose lease lapsed: send them again. Marking
    `dispatched_at` first keeps two beats from flooding the queue."""
    now = utcnow()
    stale = now - timedelta(seconds=settings.jobs_redispatch_after_seconds)
    async with system_session(database, "re-dispatch lost jobs") as session:
        rows = await session.execute(
            update(Job)
            .where(
                or_(
                    and_(Job.status == JobStatus.queued, Job.run_at <= stale),
                    and_(Job.status == JobStatus.running, Job.lease_expires_at < now),
                ),
                or_(Job.dispatched_at.is_(None), Job.dispatched_at <= stale),
            )
            .values(dispatched_at=now)
            .returning(Job.id, Job.queue)
            .execution_options(synchronize_session=False)
        )
        due = [(job_id, queue) for job_id, queue in rows]
        await session.commit()
    return await asyncio.to_thread(send, celery_app, due) if due else 0


async def schedule_retry(database: Database, job_id: str, celery_app: Any) -> None:
    """After a failed attempt the job waits for its backoff: one message with that ETA (beat
    covers it if the message is lost)."""
    async with system_session(database, "schedule a job's retry") as session:
        job = (
            await session.execute(
                select(Job.id, Job.queue, Job.run_at, Job.status).where(Job.id == job_id)
            )
        ).one_or_none()
    if job is not None and job.status == JobStatus.queued:
        with contextlib.suppress(Exception):
            await asyncio.to_thread(send, celery_app, [(job.id, job.queue)], eta=job.run_at)
