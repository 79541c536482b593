"""Job kinds and their handlers.

A handler takes the session (its changes commit together with the job's success) and the job;
it re-checks state, treats "already done" as success, and returns a small JSON result.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.jobs.models import Job

Handler = Callable[[AsyncSession, Job], Awaitable[dict[str, Any] | None]]


@dataclass(frozen=True, slots=True)
class JobKind:
    name: str
    handler: Handler
    queue: str = "default"
    max_attempts: int = 8


_KINDS: dict[str, JobKind] = {}


def job_handler(
    name: str, *, queue: str = "default", max_attempts: int = 8
) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        _KINDS[name] = JobKind(name, handler, queue, max_attempts)
        return handler

    return register


def kind_of(name: str) -> JobKind | None:
    return _KINDS.get(name)


def known_kinds() -> list[str]:
    return sorted(_KINDS)
