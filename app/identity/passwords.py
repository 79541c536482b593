"""Password hashing (argon2id through libpass's passlib API) and the password policy.

A hash costs ~50 ms of CPU and 64 MiB of memory, so it is a bounded resource: it runs in a
worker thread (never on the event loop), at most `PASSWORD_HASH_CONCURRENCY` at a time per
process, and callers hold no database connection while they wait for it. A flood of logins
queues here instead of exhausting memory, the connection pool or the event loop; past
`PASSWORD_HASH_MAX_WAITING` waiters it is refused at once (429).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Any, TypeVar

from passlib.context import CryptContext

from app.config import get_settings
from app.core.errors import RateLimited

T = TypeVar("T")


@lru_cache
def _context() -> CryptContext:
    settings = get_settings()
    return CryptContext(
        schemes=["argon2", "bcrypt"],
        deprecated=["bcrypt"],
        argon2__type="ID",
        argon2__rounds=settings.argon2_time_cost,
        argon2__memory_cost=settings.argon2_memory_cost_kib,
        argon2__parallelism=settings.argon2_parallelism,
    )


@lru_cache
def _dummy_hash() -> str:
    """Verified against when the email is unknown, so both paths cost the same."""
    return str(_context().hash("dummy-password-for-timing-Aa1!"))


MIN_LENGTH = 12
MAX_LENGTH = 128
_CLASSES = (
    (re.compile(r"[A-Z]"), "an uppercase letter"),
    (re.compile(r"[a-z]"), "a lowercase letter"),
    (re.compile(r"[0-9]"), "a digit"),
    (re.compile(r"[^A-Za-z0-9]"), "a special character"),
)


def policy_violations(password: str) -> list[str]:
    problems = []
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        problems.append(f"between {MIN_LENGTH} and {MAX_LENGTH} characters")
    problems += [label for pattern, label in _CLASSES if not pattern.search(password)]
    return problems


def _lower_priority() -> None:
    """Hash threads run at the lowest CPU priority (Linux sets niceness per thread, and the
    threads argon2 starts inherit it): under a flood the event loop, which serves every other
    request, still gets the cores when it needs them; idle cores still go to hashing."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)


class _Slots:
    """The per-process bound on concurrent hashes (one semaphore per event loop: a Celery
    worker or a test may run several loops), and the threads they run on."""

    def __init__(self) -> None:
        self._by_loop: dict[int, asyncio.Semaphore] = {}
        self._threads: ThreadPoolExecutor | None = None
        self.waiting = 0

    def semaphore(self) -> asyncio.Semaphore:
        loop = id(asyncio.get_running_loop())
        if loop not in self._by_loop:
            self._by_loop[loop] = asyncio.Semaphore(get_settings().password_hash_concurrency)
        return self._by_loop[loop]

    @property
    def threads(self) -> ThreadPoolExecutor:
        if self._threads is None:
            self._threads = ThreadPoolExecutor(
                max_workers=get_settings().password_hash_concurrency,
                thread_name_prefix="password-hash",
                initializer=_lower_priority,
            )
        return self._threads


_SLOTS = _Slots()


async def _bounded(function: Callable[..., T], *args: Any) -> T:
    if _SLOTS.waiting >= get_settings().password_hash_max_waiting:
        raise RateLimited(
            "Too many sign-ins are being checked right now; try again in a moment.",
            headers={"Retry-After": "2"},
            details={"retry_after_seconds": 2},
        )
    semaphore = _SLOTS.semaphore()
    _SLOTS.waiting += 1
    try:
        await semaphore.acquire()
    finally:
        _SLOTS.waiting -= 1
    try:
        return await asyncio.get_running_loop().run_in_executor(_SLOTS.threads, function, *args)
    finally:
        semaphore.release()


async def hash_password(password: str) -> str:
    return await _bounded(_context().hash, password)


async def verify_password(password: str, password_hash: str | None) -> tuple[bool, str | None]:
    """(matches, new_hash): new_hash is set when the stored hash uses a deprecated scheme
    (bcrypt) or old parameters and should be replaced. With no hash (an unknown email) a
    dummy one is verified, so both cost the same."""
    if password_hash is None:
        await _bounded(_context().verify, password, _dummy_hash())
        return False, None
    return await _bounded(_context().verify_and_update, password, password_hash)
