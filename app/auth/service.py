"""Registration, login with lockout, refresh-token rotation, logout.

Failed logins and refresh-token replays are recorded in a session of their own, committed at
once: the request's own transaction is rolled back when the error is raised, and the lockout
counter and the audit row must survive that.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth import passwords, throttle, tokens
from app.auth.models import Organization, RefreshToken, TokenFamily, User
from app.auth.roles import Role
from app.auth.schemas import LoginRequest, RegisterRequest, TokenPair, UserOut
from app.config import Settings
from app.core.clock import utcnow
from app.db import Database
from app.errors import Conflict, RateLimited, Unauthorized
from app.sla import policies

INVALID_CREDENTIALS = "Invalid email or password."


async def email_taken(session: AsyncSession, email: str) -> bool:
    found = await session.execute(select(User.id).where(User.email == email))
    return found.first() is not None


async def register(session: AsyncSession, data: RegisterRequest) -> User:
    if await email_taken(session, data.email):
        raise Conflict("An account with this email already exists.")
    default_name = f"{data.email.split('@')[0]}'s organization"[:255]
    organization = Organization(name=data.organization_name or default_name)
    session.add(organization)
    await session.flush()
    await audit.start_chain(session, organization.id)
    policies.seed_defaults(session, organization.id)
    user = User(
        organization_id=organization.id,
        email=data.email,
        password_hash=await passwords.hash_password(data.password),
        full_name=data.full_name,
        role=Role.owner.value,
    )
    session.add(user)
    await session.flush()
    actor = audit.Actor("user", user.id)
    await audit.record(
        session,
        organization_id=organization.id,
        actor=actor,
        event_type="organization.created",
        entity_type="organization",
        entity_id=organization.id,
        data={"name": organization.name},
    )
    await audit.record(
        session,
        organization_id=organization.id,
        actor=actor,
        event_type="user.registered",
        entity_type="user",
        entity_id=user.id,
        data={"email": user.email, "role": user.role},
    )
    return user


def _locked_error(seconds: int) -> RateLimited:
    return RateLimited(
        "Too many failed attempts; the account is locked. Try again later.",
        headers={"Retry-After": str(seconds)},
        details={"retry_after_seconds": seconds},
    )


async def login(
    session: AsyncSession, database: Database, settings: Settings, data: LoginRequest
) -> TokenPair:
    now = utcnow()
    if locked := await throttle.locked_for(session, data.email, now):
        raise _locked_error(locked)
    user = (
        await session.execute(select(User).where(User.email == data.email))
    ).scalar_one_or_none()
    matches, new_hash = await passwords.verify_password(
        data.password, user.password_hash if user else None
    )
    if user is None or not matches or not user.is_active:
        if await throttle.record_failure(database, settings, data.email) and user is not None:
            await _audit_lockout(database, user)
        raise Unauthorized(INVALID_CREDENTIALS)
    if new_hash:
        user.password_hash = new_hash
    await throttle.clear_failures(session, data.email)
    user.last_login_at = now
    family = TokenFamily(
        organization_id=user.organization_id,
        user_id=user.id,
        created_at=now,
        expires_at=now + timedelta(days=settings.refresh_token_expire_days),
    )
    session.add(family)
    await session.flush()
    await audit.record(
        session,
        organization_id=user.organization_id,
        actor=audit.Actor("user", user.id),
        event_type="auth.login",
        entity_type="user",
        entity_id=user.id,
    )
    return await _token_pair(session, settings, user, family, now)


async def _audit_lockout(database: Database, user: User) -> None:
    async with database.sessionmaker() as own:
        await audit.record(
            own,
            organization_id=user.organization_id,
            actor=audit.SYSTEM,
            event_type="auth.account_locked",
            entity_type="user",
            entity_id=user.id,
        )
        await own.commit()


async def _token_pair(
    session: AsyncSession, settings: Settings, user: User, family: TokenFamily, now: datetime
) -> TokenPair:
    secret = tokens.new_secret("refresh")
    session.add(
        RefreshToken(
            organization_id=user.organization_id,
            family_id=family.id,
            token_hash=tokens.hash_secret(secret),
            created_at=now,
            expires_at=family.expires_at,
        )
    )
    access, expires_in = tokens.issue_access_token(
        settings,
        user_id=user.id,
        organization_id=user.organization_id,
        role=user.role,
        session_id=family.id,
        now=now,
    )
    return TokenPair(
        access_token=access,
        refresh_token=secret,
        expires_in=expires_in,
        user=UserOut.model_validate(user),
    )


async def refresh(
    session: AsyncSession, database: Database, settings: Settings, secret: str
) -> TokenPair:
    now = utcnow()
    found = (
        await session.execute(
            select(RefreshToken, TokenFamily, User)
            .join(TokenFamily, TokenFamily.id == RefreshToken.family_id)
            .join(User, User.id == TokenFamily.user_id)
            .where(RefreshToken.token_hash == tokens.hash_secret(secret))
        )
    ).one_or_none()
    if found is None:
        raise Unauthorized("Invalid refresh token.")
    token, family, user = found
    if family.revoked_at is not None or token.expires_at <= now or not user.is_active:
        raise Unauthorized("This session has ended. Log in again.")
    replayed = token.used_at is not None
    if not replayed and (locked := await throttle.locked_for(session, user.email, now)):
        raise _locked_error(locked)
    if not replayed:
        claimed = await session.execute(
            update(RefreshToken)
            .where(RefreshToken.id == token.id, RefreshToken.used_at.is_(None))
            .values(used_at=now)
        )
        # Lost a race with a concurrent use of the same token: that is a replay too.
        replayed = getattr(claimed, "rowcount", 0) != 1
        if replayed:
            await session.rollback()
    if replayed:
        await _revoke_replayed_family(database, family.id, user.id, user.organization_id)
        raise Unauthorized("This refresh token was already used; the session has been ended.")
    return await _token_pair(session, settings, user, family, now)


async def _revoke_replayed_family(
    database: Database, family_id: str, user_id: str, organization_id: str
) -> None:
    async with database.sessionmaker() as own:
        await revoke_family(own, family_id, reason="refresh_token_reused")
        await audit.record(
            own,
            organization_id=organization_id,
            actor=audit.SYSTEM,
            event_type="auth.refresh_token_reused",
            entity_type="user",
            entity_id=user_id,
            data={"session_id": family_id},
        )
        await own.commit()


async def revoke_family(session: AsyncSession, family_id: str, *, reason: str) -> None:
    await session.execute(
        update(TokenFamily)
        .where(TokenFamily.id == family_id, TokenFamily.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )


async def logout(session: AsyncSession, user_id: str, organization_id: str, family_id: str) -> None:
    await revoke_family(session, family_id, reason="logout")
    await audit.record(
        session,
        organization_id=organization_id,
        actor=audit.Actor("user", user_id),
        event_type="auth.logout",
        entity_type="user",
        entity_id=user_id,
        data={"session_id": family_id},
    )


async def organization_of(session: AsyncSession, organization_id: str) -> Organization:
    return (
        await session.execute(select(Organization).where(Organization.id == organization_id))
    ).scalar_one()


async def get_user(session: AsyncSession, user_id: str) -> User:
    return (await session.execute(select(User).where(User.id == user_id))).scalar_one()


async def revoke_user_sessions(session: AsyncSession, user_id: str, *, reason: str) -> None:
    await session.execute(
        update(TokenFamily)
        .where(TokenFamily.user_id == user_id, TokenFamily.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )
