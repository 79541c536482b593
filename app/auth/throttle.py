"""Account lockout, keyed by the normalised email rather than the account.

An unknown email and a known one go through the same steps (one verification, one counted
failure) and lock out after the same number of failures, so neither the status, the body nor
the timing says whether an account exists. A failure is counted by one atomic upsert in the
request's own transaction, committed with its 401: concurrent failures all count.

A lockout stops password guessing; it does not end sessions already signed in (refresh keeps
working for them).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import LoginThrottle
from app.auth.tokens import hash_secret
from app.config import Settings
from app.core.clock import utcnow
from app.db import dialect_of


def _key(email: str) -> str:
    return hash_secret("login:" + email)


async def locked_for(session: AsyncSession, email: str, now: datetime) -> int | None:
    """Seconds until the email may try again, or None."""
    locked_until = (
        await session.execute(
            select(LoginThrottle.locked_until).where(LoginThrottle.email_hash == _key(email))
        )
    ).scalar_one_or_none()
    if locked_until is None or locked_until <= now:
        return None
    return max(1, int((locked_until - now).total_seconds()) + 1)


async def record_failure(session: AsyncSession, settings: Settings, email: str) -> bool:
    """Counts one failure in the caller's transaction. True when it locked the email."""
    now = utcnow()
    window_start = now - timedelta(seconds=settings.auth_rate_limit_window_seconds)
    insert = pg_insert if dialect_of(session) == "postgresql" else sqlite_insert
    first, attempts_so_far = LoginThrottle.first_failed_at, LoginThrottle.failed_attempts
    stale = first.is_(None) | (first < window_start)
    statement = (
        insert(LoginThrottle)
        .values(email_hash=_key(email), failed_attempts=1, first_failed_at=now)
        .on_conflict_do_update(
            index_elements=[LoginThrottle.email_hash],
            set_={
                "failed_attempts": case((stale, 1), else_=attempts_so_far + 1),
                "first_failed_at": case((stale, now), else_=first),
            },
        )
        .returning(LoginThrottle.failed_attempts)
    )
    attempts = (await session.execute(statement)).scalar_one()
    if attempts < settings.auth_max_failed_attempts:
        return False
    await session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.email_hash == _key(email))
        .values(
            locked_until=now + timedelta(minutes=settings.auth_lockout_duration_minutes),
            failed_attempts=0,
            first_failed_at=None,
        )
    )
    return True


async def clear_failures(session: AsyncSession, email: str) -> None:
    await session.execute(delete(LoginThrottle).where(LoginThrottle.email_hash == _key(email)))
