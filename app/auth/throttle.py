"""Account lockout, keyed by the normalised email rather than the account.

An unknown email and a known one go through the same steps (one verification, one upsert in a
session of its own) and lock out after the same number of failures, so neither the status,
the body nor the timing says whether an account exists.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import LoginThrottle
from app.auth.tokens import hash_secret
from app.config import Settings
from app.core.clock import utcnow
from app.db import Database


def _key(email: str) -> str:
    return hash_secret("login:" + email)


async def locked_for(session: AsyncSession, email: str, now: datetime) -> int | None:
    """Seconds until the email may try again, or None."""
    row = (
        await session.execute(select(LoginThrottle).where(LoginThrottle.email_hash == _key(email)))
    ).scalar_one_or_none()
    if row is None or row.locked_until is None or row.locked_until <= now:
        return None
    return max(1, int((row.locked_until - now).total_seconds()) + 1)


async def record_failure(database: Database, settings: Settings, email: str) -> bool:
    """Counts a failure in a transaction of its own (the request's is rolled back with the
    error). True when this failure locked the email."""
    try:
        return await _count_failure(database, settings, email)
    except IntegrityError:  # a concurrent first failure inserted the row: count on top of it
        return await _count_failure(database, settings, email)


async def _count_failure(database: Database, settings: Settings, email: str) -> bool:
    now = utcnow()
    window = timedelta(seconds=settings.auth_rate_limit_window_seconds)
    async with database.sessionmaker() as session:
        row = (
            await session.execute(
                select(LoginThrottle)
                .where(LoginThrottle.email_hash == _key(email))
                .with_for_update()
            )
        ).scalar_one_or_none()
        if row is None:
            row = LoginThrottle(email_hash=_key(email), failed_attempts=0)
            session.add(row)
        if row.first_failed_at is None or row.first_failed_at < now - window:
            row.failed_attempts, row.first_failed_at = 1, now
        else:
            row.failed_attempts += 1
        locked = row.failed_attempts >= settings.auth_max_failed_attempts
        if locked:
            row.locked_until = now + timedelta(minutes=settings.auth_lockout_duration_minutes)
            row.failed_attempts, row.first_failed_at = 0, None
        await session.commit()
        return locked


async def clear_failures(session: AsyncSession, email: str) -> None:
    await session.execute(delete(LoginThrottle).where(LoginThrottle.email_hash == _key(email)))
