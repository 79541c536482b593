"""The faults feature's hot SQL: a storm's batch takes all its locks in one statement."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import dialect_of
from app.core.locks import lock_key

_LOCK_ALL = text(
    "SELECT count(pg_advisory_xact_lock(k)) FROM (SELECT unnest(CAST(:keys AS bigint[])) AS k "
    "ORDER BY 1) AS sorted"
)


async def lock_all(session: AsyncSession, names: list[str]) -> None:
    """The transaction locks of every name, in one round trip and in a fixed order (so two
    batches cannot deadlock). SQLite has one writer at a time: nothing to lock."""
    if names and dialect_of(session) == "postgresql":
        keys = sorted({lock_key(name) for name in names})
        await session.execute(_LOCK_ALL, {"keys": keys})
