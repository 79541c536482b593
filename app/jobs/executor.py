"""The inline executor: an asyncio task inside the API process that runs due jobs.

It wakes when a transaction that enqueued jobs commits, and otherwise polls, so a job whose
wake-up was missed (a restart) still runs. Tests call `drain()` to run everything due, now.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from typing import Any

import structlog
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.core.db import Database
from app.core.tenancy import system_session
from app.jobs import service
from app.jobs.runner import run_job
from app.jobs.sweeps import SWEEPS
from app.journal.journal import peek

log = structlog.get_logger(__name__)


class InlineExecutor:
    def __init__(self, database: Database, *, poll_interval: float, lease_seconds: int) -> None:
        self.database = database
        self.poll_interval = poll_interval
        self.lease_seconds = lease_seconds
        self.worker = f"inline-{os.getpid()}"
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._last_sweep: dict[str, float] = {}

    def wake(self) -> None:
        self._wake.set()

    async def drain(self, max_rounds: int = 1000) -> int:
        """Runs due jobs until none is left; returns how many ran."""
        ran = 0
        for _ in range(max_rounds):
            async with system_session(self.database, "find due jobs") as session:
                ids = await service.due_job_ids(session)
            if not ids:
                break
            for job_id in ids:
                if await run_job(
                    self.database, job_id, worker=self.worker, lease_seconds=self.lease_seconds
                ):
                    ran += 1
        return ran

    async def _loop(self) -> None:
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_interval)
            self._wake.clear()
            try:
                await self.drain(max_rounds=10)
                await self.run_due_sweeps()
            except Exception as exc:  # the database may be down: keep polling
                log.warning("inline_executor_error", error=type(exc).__name__)

    async def run_due_sweeps(self) -> None:
        now = time.monotonic()
        for sweep in SWEEPS:
            last = self._last_sweep.get(sweep.name)
            if last is not None and now - last < sweep.every_seconds:
                continue
            self._last_sweep[sweep.name] = now
            count = await sweep.run(self.database)
            # A sweep that found nothing (most of them, every few seconds) is not news.
            (log.info if count else log.debug)("sweep_ran", sweep=sweep.name, affected=count)

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="inline-jobs")

    async def stop(self, grace_seconds: float = 30) -> None:
        """Lets the job in progress finish (up to the grace period); a job cut off keeps its
        lease and is taken over once the lease lapses."""
        self._stopping = True
        self._wake.set()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout=grace_seconds)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def install_after_commit_hook(database: Database, on_commit: Any) -> None:
    """After a commit that enqueued jobs, hand them to the executor."""

    @event.listens_for(database.session_class, "after_commit")
    def _after_commit(session: Session) -> None:
        journal = peek(session)
        if journal is not None and journal.jobs:
            on_commit([(job.id, job.queue) for job in journal.jobs])
