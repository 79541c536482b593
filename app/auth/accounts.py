"""A person looking after their account: changing a password, and resetting a forgotten one
with a one-time token an owner or admin (or the command line) issued."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.core import crossings, mail
from app.core.actors import Actor
from app.core.clock import utcnow
from app.core.errors import Forbidden, ServiceUnavailable, Unauthorized, ValidationFailed
from app.core.loading import get_or_404
from app.core.tenancy import scope_session_to
from app.identity import passwords, throttle, tokens
from app.identity.models import PasswordReset, TokenFamily, User
from app.identity.roles import Role
from app.journal import journal
from app.journal.entries import Change

INVALID_RESET = "The reset token is unknown, used or expired."


async def _end_sessions(
    session: AsyncSession, user_id: str, *, keep: str | None, reason: str
) -> None:
    query = update(TokenFamily).where(
        TokenFamily.user_id == user_id, TokenFamily.revoked_at.is_(None)
    )
    if keep is not None:
        query = query.where(TokenFamily.id != keep)
    await session.execute(query.values(revoked_at=utcnow(), revoked_reason=reason))


async def change_password(
    session: AsyncSession,
    settings: Settings,
    user_id: str,
    session_id: str | None,
    current: str,
    new: str,
) -> None:
    """The current password proves it is the person (a stolen access token alone cannot
    change it); a wrong one counts towards the lockout. Every other session ends."""
    user = await get_or_404(session, User, user_id, "User not found.")
    subjects = throttle.subjects(settings, user.email, user.id)
    if await throttle.locked_for(session, subjects, utcnow()):
        raise Unauthorized("Too many failed attempts; the account is locked. Try again later.")
    matches, _ = await passwords.verify_password(current, user.password_hash)
    if not matches:
        await throttle.record_failure(session, settings, subjects)
        raise ValidationFailed.of_field(
            "current_password", "The current password is wrong.", persist=True
        )
    if current == new:
        raise ValidationFailed.of_field(
            "new_password", "The new password must differ from the current one."
        )
    user.password_hash = await passwords.hash_password(new)
    await _end_sessions(session, user.id, keep=session_id, reason="password_changed")
    journal.record(
        session,
        Change(
            organization_id=user.organization_id,
            actor=Actor("user", user.id),
            kind="auth.password_changed",
            entity_type="user",
            entity_id=user.id,
        ),
    )


@dataclass(frozen=True, slots=True)
class IssuedReset:
    user_id: str
    token: str | None  # None when it went by mail
    expires_at: datetime
    delivery: str  # "returned" or "email"


async def issue_reset(
    session: AsyncSession, settings: Settings, user: User, actor: Actor, actor_role: Role
) -> IssuedReset:
    """A one-time token for `user`, valid `PASSWORD_RESET_TTL_MINUTES`; earlier unused ones
    stop working. Nobody resets the password of a role above their own."""
    if not actor_role.admits(Role(user.role)):
        raise Forbidden("Nobody can reset the password of a role above their own.")
    now = utcnow()
    await session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
    )
    token = tokens.new_secret("reset")
    expires_at = now + timedelta(minutes=settings.password_reset_ttl_minutes)
    session.add(
        PasswordReset(
            organization_id=user.organization_id,
            user_id=user.id,
            token_hash=tokens.hash_secret(token),
            created_by=actor.id,
            created_at=now,
            expires_at=expires_at,
        )
    )
    delivery = "email" if settings.smtp_url is not None else "returned"
    journal.record(
        session,
        Change(
            organization_id=user.organization_id,
            actor=actor,
            kind="auth.password_reset_issued",
            entity_type="user",
            entity_id=user.id,
            data={"expires_at": expires_at, "delivery": delivery},
        ),
    )
    if delivery == "email":
        await _mail_token(settings, user.email, token, expires_at)
        return IssuedReset(user.id, None, expires_at, delivery)
    return IssuedReset(user.id, token, expires_at, delivery)


async def _mail_token(settings: Settings, to: str, token: str, expires_at: datetime) -> None:
    how = (
        settings.password_reset_url.replace("{token}", token)
        if settings.password_reset_url
        else f"POST {settings.api_v1_prefix}/auth/password/reset with "
        f'{{"token": "{token}", "new_password": "..."}}'
    )
    body = (
        "A password reset was requested for your ApexChainX account.\n\n"
        f"{how}\n\nThe token works once, until {expires_at.isoformat()}. If you did not expect "
        "this, tell your organization's administrator.\n"
    )
    try:
        await mail.send(settings, to=to, subject="Reset your ApexChainX password", body=body)
    except mail.MailUnavailable:
        # Nothing is issued: the request rolls back, and the issuer may try again.
        raise ServiceUnavailable("The reset email could not be sent; try again.") from None


async def reset_with_token(
    session: AsyncSession, settings: Settings, token: str, new_password: str
) -> None:
    """Sets the new password, ends every session of the user and lifts the account's own
    lockout. A lock on the email (failures spread over the email's accounts in every
    organization) is not this account's to lift: it expires by itself."""
    password_hash = await passwords.hash_password(new_password)  # before holding a connection
    now = utcnow()
    owner = await crossings.secret_owner(
        session, "password_reset", tokens.hash_secret(token), held_by=PasswordReset.token_hash
    )
    if owner is None:
        raise Unauthorized(INVALID_RESET)
    await scope_session_to(session, owner.organization_id)
    reset = (
        await session.execute(
            select(PasswordReset).where(PasswordReset.id == owner.id).with_for_update()
        )
    ).scalar_one_or_none()
    if reset is None or reset.used_at is not None or reset.expires_at <= now:
        raise Unauthorized(INVALID_RESET)
    user = await get_or_404(session, User, reset.user_id, INVALID_RESET)
    if not user.is_active:
        raise Unauthorized(INVALID_RESET)
    reset.used_at = now
    user.password_hash = password_hash
    await _end_sessions(session, user.id, keep=None, reason="password_reset")
    await throttle.forgive(session, throttle.subjects(settings, user.email, user.id))
    journal.record(
        session,
        Change(
            organization_id=user.organization_id,
            actor=Actor("user", user.id),
            kind="auth.password_reset",
            entity_type="user",
            entity_id=user.id,
        ),
    )
