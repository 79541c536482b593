"""The Celery app: workers run jobs from the jobs table, beat re-dispatches and sweeps.

    celery -A app.worker worker -Q default,sla,payouts,webhooks,investigations
    celery -A app.worker beat

A message carries a job id, never the work: the worker claims the row atomically (a duplicated
or late message finds nothing to claim) and runs the same async handler the inline executor
runs, on an event loop that lives as long as the worker process.
"""

from __future__ import annotations

import asyncio
import os
import socket
from typing import Any

from celery import Celery
from celery.signals import worker_process_shutdown

from app.background import open_database, register_background_work
from app.config import get_settings
from app.core.db import Database
from app.jobs import dispatch
from app.jobs.executor import install_after_commit_hook
from app.jobs.runner import run_job
from app.jobs.sweeps import SWEEPS
from app.logging import configure_logging

QUEUES = ("default", "sla", "payouts", "webhooks", "investigations")
BEAT_DISPATCH_SECONDS = 5.0

settings = get_settings()
configure_logging(settings)
register_background_work()

celery_app = Celery("apexchainx", broker=dispatch.broker_url(settings))
celery_app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_default_queue="default",
    task_ignore_result=True,
    broker_connection_retry_on_startup=True,
    # Redelivery of unacknowledged messages (a worker lost with a message in hand) is beat's
    # job, from the lease; the broker's own timeout only has to outlast a retry's ETA.
    broker_transport_options={"visibility_timeout": 3600},
    worker_hijack_root_logger=False,
    beat_schedule={
        "dispatch-due-jobs": {"task": "apexchainx.dispatch_due", "schedule": BEAT_DISPATCH_SECONDS},
        **{
            f"sweep-{sweep.name}": {
                "task": "apexchainx.sweep",
                "schedule": sweep.every_seconds,
                "args": (sweep.name,),
            }
            for sweep in SWEEPS
        },
    },
)

_loop: asyncio.AbstractEventLoop | None = None
_database: Database | None = None


def _run(coroutine: Any) -> Any:
    """One event loop and one engine per worker process, created after the fork."""
    global _loop, _database
    if _loop is None:
        _loop = asyncio.new_event_loop()
    return _loop.run_until_complete(coroutine)


def _db() -> Database:
    global _database
    if _database is None:
        _database = open_database(settings)
        # Jobs a handler enqueues (a payout after a recalculation, a webhook delivery after a
        # payment) are published as soon as it commits, not left to beat.
        install_after_commit_hook(_database, dispatch.after_commit_dispatcher(celery_app))
    return _database


@celery_app.task(name="apexchainx.run_job")
def run_job_task(job_id: str) -> bool:
    worker = f"{socket.gethostname()}:{os.getpid()}"
    ran = bool(
        _run(run_job(_db(), job_id, worker=worker, lease_seconds=settings.jobs_lease_seconds))
    )
    if ran:
        _run(dispatch.schedule_retry(_db(), job_id, celery_app))
    return ran


@celery_app.task(name="apexchainx.dispatch_due")
def dispatch_due_task() -> int:
    return int(_run(dispatch.redispatch_due(_db(), celery_app, settings)))


@celery_app.task(name="apexchainx.sweep")
def sweep_task(name: str) -> int:
    sweep = next((s for s in SWEEPS if s.name == name), None)
    if sweep is None:
        raise LookupError(f"unknown sweep {name!r}")
    return int(_run(sweep.run(_db())))


@worker_process_shutdown.connect
def _close(**_: Any) -> None:
    if _database is not None and _loop is not None:
        _loop.run_until_complete(_database.dispose())
