"""Advisory locks that outlive a transaction: one holder at a time per key, across processes.

On PostgreSQL a session-level advisory lock on a connection of its own (so the holder may
commit as often as it needs), taken from a small pool of its own: a lock holder also needs a
connection for its work, and must not wait for it behind the locks; SQLite serves one process,
where an asyncio lock does.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import Database, dialect_of

_LOCAL: dict[tuple[int, str], asyncio.Lock] = {}


def lock_key(name: str) -> int:
    """The advisory lock key of a name (64 bits of its SHA-256)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


async def transaction_lock(session: AsyncSession, name: str) -> None:
    """Held until the session's transaction ends (PostgreSQL); SQLite writes one transaction
    at a time already."""
    if dialect_of(session) == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(name)})


@contextlib.asynccontextmanager
async def advisory_lock(database: Database, name: str) -> AsyncIterator[None]:
    if database.engine.dialect.name != "postgresql":
        lock = _LOCAL.setdefault((id(database), name), asyncio.Lock())
        async with lock:
            yield
        return
    key = lock_key(name)
    async with database.lock_engine.connect() as connection:
        await connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
        try:
            yield
        finally:
            await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            await connection.commit()
