"""Periodic sweeps: housekeeping that runs on a schedule rather than on an event.

The inline executor runs them from its loop; Celery beat (production) schedules the same list.
Each sweep is idempotent, so two instances running one at the same time do no harm.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from app.core.db import Database
from app.core.idempotency import purge_expired
from app.jobs.service import reap_exhausted


@dataclass(frozen=True, slots=True)
class Sweep:
    name: str
    every_seconds: float
    run: Callable[[Database], Awaitable[int]]


SWEEPS: list[Sweep] = [
    Sweep("purge_expired_idempotency_keys", 3600, purge_expired),
    Sweep("reap_exhausted_jobs", 60, reap_exhausted),
]


def register_sweep(sweep: Sweep) -> None:
    """Idempotent by name, so the composition root may run more than once (tests build many
    apps)."""
    if all(existing.name != sweep.name for existing in SWEEPS):
        SWEEPS.append(sweep)
