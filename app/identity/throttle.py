"""Failed sign-ins, counted per account and per email across organizations.

Every attempt names one email and at most one account (`app/auth/service.py` picks it before
any password is checked). A failure counts against both: the account, so guesses at one
account lock it whatever else the email does; and the email, so guesses spread over the
accounts one person holds in several organizations, or at an email with no account at all,
add up to the same limit. A success forgives only its own account's failures, and the
email's only when they were all at that account: signing in to an account someone else
created with your email clears nothing of yours. A password reset forgives the same way.

Counters are keyed by an HMAC of the subject under the service's secret key: the table sits
outside row-level security (a sign-in has no organization yet), and an unkeyed hash of an
email is an email to anyone holding a list of addresses. Rotating `SECRET_KEY` starts every
counter afresh (at worst one more window of attempts).

An unknown email and a known one go through the same steps and lock after the same number of
failures, so neither the status, the body nor the timing says whether an account exists. A
failure is counted by atomic upserts in the request's own transaction, committed with its
401: concurrent failures all count. A lockout stops password guessing; it does not end
sessions already signed in.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.core.clock import utcnow
from app.core.db import dialect_of
from app.identity.models import LoginThrottle


@dataclass(frozen=True, slots=True)
class Subjects:
    """The counters one attempt touches: its email's and, when it names one, its account's."""

    email: str
    account: str | None

    @property
    def keys(self) -> list[str]:
        return [self.email] + ([self.account] if self.account else [])


def _key(settings: Settings, kind: str, value: str) -> str:
    message = f"login-throttle:{kind}:{value}".encode()
    return hmac.new(settings.secret_key.encode(), message, hashlib.sha256).hexdigest()


def subjects(settings: Settings, email: str, account_id: str | None) -> Subjects:
    account = _key(settings, "account", account_id) if account_id else None
    return Subjects(_key(settings, "email", email.lower()), account)


async def locked_for(session: AsyncSession, subjects: Subjects, now: datetime) -> int | None:
    """Seconds until the attempt may be made again (the later of its locks), or None."""
    locked_until = (
        await session.execute(
            select(func.max(LoginThrottle.locked_until)).where(
                LoginThrottle.subject_hash.in_(subjects.keys)
            )
        )
    ).scalar_one_or_none()
    if locked_until is None or locked_until <= now:
        return None
    return max(1, int((locked_until - now).total_seconds()) + 1)


@dataclass(frozen=True, slots=True)
class Locked:
    email: bool
    account: bool


async def record_failure(session: AsyncSession, settings: Settings, subjects: Subjects) -> Locked:
    """Counts one failure against each subject, in the caller's transaction; says which of
    them it locked. The email's row remembers the account its failures were at while they
    were all at one (`sole_subject_hash`)."""
    email = await _count(session, settings, subjects.email, subjects.account or MIXED)
    account = subjects.account is not None and await _count(
        session, settings, subjects.account, subjects.account
    )
    return Locked(email, account)


# The email's failures were at more than one account (or at none).
MIXED = "*"


async def _count(session: AsyncSession, settings: Settings, key: str, at: str) -> bool:
    now = utcnow()
    window_start = now - timedelta(seconds=settings.auth_rate_limit_window_seconds)
    insert = pg_insert if dialect_of(session) == "postgresql" else sqlite_insert
    first, attempts_so_far = LoginThrottle.first_failed_at, LoginThrottle.failed_attempts
    sole = LoginThrottle.sole_subject_hash
    stale = first.is_(None) | (first < window_start)
    statement = (
        insert(LoginThrottle)
        .values(subject_hash=key, failed_attempts=1, first_failed_at=now, sole_subject_hash=at)
        .on_conflict_do_update(
            index_elements=[LoginThrottle.subject_hash],
            set_={
                "failed_attempts": case((stale, 1), else_=attempts_so_far + 1),
                "first_failed_at": case((stale, now), else_=first),
                "sole_subject_hash": case((stale | (sole == at), at), else_=MIXED),
            },
        )
        .returning(LoginThrottle.failed_attempts)
    )
    attempts = (await session.execute(statement)).scalar_one()
    if attempts < settings.auth_max_failed_attempts:
        return False
    await session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.subject_hash == key)
        .values(
            locked_until=now + timedelta(minutes=settings.auth_lockout_duration_minutes),
            failed_attempts=0,
            first_failed_at=None,
        )
    )
    return True


async def forgive(session: AsyncSession, subjects: Subjects) -> None:
    """After a success (or a reset) on the account: its own failures and lock are cleared,
    and the email's too when every failure counted there was at this account. Failures at
    any other account (or at none) stay until their window, or their lock, expires."""
    if subjects.account is None:
        return
    await session.execute(
        delete(LoginThrottle).where(
            (LoginThrottle.subject_hash == subjects.account)
            | (
                (LoginThrottle.subject_hash == subjects.email)
                & (LoginThrottle.sole_subject_hash == subjects.account)
            )
        )
    )


async def clear(session: AsyncSession, subjects: Subjects) -> None:
    """An operator's reset (the demo's new password at every start): every counter and lock
    of the email and the account goes."""
    await session.execute(
        delete(LoginThrottle).where(LoginThrottle.subject_hash.in_(subjects.keys))
    )
