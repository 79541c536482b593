"""The correlation id of the work in progress, carried by a context variable.

Set by the middleware for a request, and by the job runner for a job, so logs, error bodies,
audit rows and outgoing webhooks all name the same id.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

HEADER = "X-Correlation-ID"
_SANE = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")

_current: ContextVar[str | None] = ContextVar("correlation_id", default=None)


def get_correlation_id() -> str | None:
    return _current.get()


def set_correlation_id(value: str | None) -> None:
    _current.set(value)


def accept_or_generate(candidate: str | None) -> str:
    """A client's id is kept only when it is a sane token; anything else is replaced."""
    if candidate and _SANE.match(candidate):
        return candidate
    return str(uuid.uuid4())
