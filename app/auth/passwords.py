"""Password hashing (argon2id through libpass's passlib API) and the password policy.

Hashing takes ~50 ms of CPU, so it runs in a worker thread, never on the event loop.
"""

from __future__ import annotations

import re
from functools import lru_cache

from anyio import to_thread
from passlib.context import CryptContext

from app.config import get_settings


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


async def hash_password(password: str) -> str:
    return await to_thread.run_sync(_context().hash, password)


async def verify_password(password: str, password_hash: str | None) -> tuple[bool, str | None]:
    """(matches, new_hash): new_hash is set when the stored hash uses a deprecated scheme
    (bcrypt) or old parameters and should be replaced."""
    if password_hash is None:
        await to_thread.run_sync(_context().verify, password, _dummy_hash())
        return False, None
    result: tuple[bool, str | None] = await to_thread.run_sync(
        _context().verify_and_update, password, password_hash
    )
    return result
