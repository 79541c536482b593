"""Registration, login with lockout, refresh-token rotation, logout.

A failed login is counted, and a refresh-token replay revokes its session, in the request's
own transaction, committed with the 401.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.presenter import user_out
from app.auth.schemas import LoginRequest, RegisterRequest, TokenPair
from app.config import Settings
from app.contracts import service as contracts
from app.core import crossings as core_crossings
from app.core.actors import SYSTEM, Actor
from app.core.clock import utcnow
from app.core.errors import Conflict, RateLimited, Unauthorized
from app.core.ids import new_id
from app.core.locks import transaction_lock
from app.core.tenancy import scope_session_to
from app.core.unit_of_work import release_connection
from app.identity import crossings, passwords, throttle, tokens
from app.identity.models import Organization, RefreshToken, TokenFamily, User
from app.identity.roles import Role
from app.journal import journal
from app.journal.entries import Change

INVALID_CREDENTIALS = "Invalid email or password."


async def email_registered(session: AsyncSession, email: str) -> bool:
    """Whether the email holds an account in any organization (registration refuses those;
    an admin may still add such a person to their organization)."""
    return bool(await crossings.email_accounts(session, email, active=False))


async def register(session: AsyncSession, data: RegisterRequest) -> User:
    password_hash = await passwords.hash_password(data.password)  # before holding a connection
    # Concurrent registrations of one email take turns: the second sees the first.
    await transaction_lock(session, f"register:{data.email}")
    if await email_registered(session, data.email):
        raise Conflict("An account with this email already exists.")
    default_name = f"{data.email.split('@')[0]}'s organization"[:255]
    organization = Organization(id=new_id("org"), name=data.organization_name or default_name)
    await scope_session_to(session, organization.id)
    session.add(organization)
    await session.flush()
    await audit.start_chain(session, organization.id)
    contracts.seed_default(session, organization.id)
    user = User(
        organization_id=organization.id,
        email=data.email,
        password_hash=password_hash,
        full_name=data.full_name,
        role=Role.owner.value,
    )
    session.add(user)
    await session.flush()
    actor = Actor("user", user.id)
    journal.record(
        session,
        Change(
            organization_id=organization.id,
            actor=actor,
            kind="organization.created",
            entity_type="organization",
            entity_id=organization.id,
            data={"name": organization.name},
        ),
    )
    journal.record(
        session,
        Change(
            organization_id=organization.id,
            actor=actor,
            kind="user.registered",
            entity_type="user",
            entity_id=user.id,
            data={"email": user.email, "role": user.role},
        ),
    )
    return user


def _locked_error(seconds: int) -> RateLimited:
    return RateLimited(
        "Too many failed attempts; the account is locked. Try again later.",
        headers={"Retry-After": str(seconds)},
        details={"retry_after_seconds": seconds},
    )


@dataclass(frozen=True, slots=True)
class Device:
    """Where a sign-in or refresh comes from, as the session list shows it."""

    user_agent: str | None
    ip_address: str | None


async def login(
    session: AsyncSession, settings: Settings, data: LoginRequest, device: Device | None = None
) -> TokenPair:
    """One account, then its locks, then one password hash with no database connection held,
    then the outcome in the request's transaction (a failure is counted and committed with its
    401). Every attempt costs one hash, whatever the email and however many organizations hold
    it (decision 0021)."""
    now = utcnow()
    # One account, picked before any password is checked: the named organization's, else
    # the email's first (oldest active). Accounts other organizations add later with the same
    # email never come first, so they can neither push a person's own account out of
    # sign-in nor make it slower.
    account = await crossings.sign_in_account(session, data.email, data.organization_id)
    subjects = throttle.subjects(settings, data.email, account.id if account else None)
    if locked := await throttle.locked_for(session, subjects, now):
        raise _locked_error(locked)
    await release_connection(session)
    matches, new_hash = await passwords.verify_password(
        data.password, account.password_hash if account else None
    )
    if account is None or not matches:
        await _count_failure(session, settings, data.email, account, subjects)
        raise Unauthorized(INVALID_CREDENTIALS, persist=True)
    await scope_session_to(session, account.organization_id)
    user = await get_user(session, account.id)
    if new_hash:
        user.password_hash = new_hash
    await throttle.forgive(session, subjects)
    user.last_login_at = now
    family = TokenFamily(
        organization_id=user.organization_id,
        user_id=user.id,
        created_at=now,
        expires_at=now + timedelta(days=settings.refresh_token_expire_days),
        last_seen_at=now,
        user_agent=device.user_agent if device else None,
        ip_address=device.ip_address if device else None,
    )
    session.add(family)
    await session.flush()
    journal.record(
        session,
        Change(
            organization_id=user.organization_id,
            actor=Actor("user", user.id),
            kind="auth.login",
            entity_type="user",
            entity_id=user.id,
        ),
    )
    return await _token_pair(session, settings, user, family, now)


async def _count_failure(
    session: AsyncSession,
    settings: Settings,
    email: str,
    account: crossings.SignInAccount | None,
    subjects: throttle.Subjects,
) -> None:
    locked = await throttle.record_failure(session, settings, subjects)
    accounts: list[core_crossings.Owner] = []
    if locked.email:  # the email's lock covers each of its accounts: say so in each
        accounts = await crossings.email_accounts(session, email, active=True)
    elif locked.account and account is not None:
        accounts = [core_crossings.Owner(account.id, account.organization_id)]
    for locked_account in accounts:
        await scope_session_to(session, locked_account.organization_id)
        journal.record(
            session,
            Change(
                organization_id=locked_account.organization_id,
                actor=SYSTEM,
                kind="auth.account_locked",
                entity_type="user",
                entity_id=locked_account.id,
            ),
        )


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
        user=await user_out(session, user),
    )


async def refresh(
    session: AsyncSession, settings: Settings, secret: str, device: Device | None = None
) -> TokenPair:
    """Rotates the refresh token. Its family row is locked first, so concurrent uses of one
    token (or a logout racing a refresh) take turns: one gets the new pair, every other use
    finds the token spent and ends the whole session as a reuse."""
    now = utcnow()
    owner = await core_crossings.secret_owner(
        session, "refresh_token", tokens.hash_secret(secret), held_by=RefreshToken.token_hash
    )
    if owner is None:
        raise Unauthorized("Invalid refresh token.")
    await scope_session_to(session, owner.organization_id)
    token = await session.get_one(RefreshToken, owner.id)
    family = (
        await session.execute(
            select(TokenFamily)
            .where(TokenFamily.id == token.family_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one()
    user = await get_user(session, family.user_id)
    if family.revoked_at is not None or token.expires_at <= now or not user.is_active:
        raise Unauthorized("This session has ended. Log in again.")
    claimed = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == token.id, RefreshToken.used_at.is_(None))
        .values(used_at=now)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        # Spent already (by an earlier use, or by the use that held the lock before us): a
        # replay. The whole session ends, and that is committed with the 401.
        await _revoke_replayed_family(session, family, user)
        raise Unauthorized(
            "This refresh token was already used; the session has been ended.", persist=True
        )
    family.last_seen_at = now
    if device is not None:
        family.user_agent, family.ip_address = device.user_agent, device.ip_address
    # A lockout stops password guessing; it does not end sessions already signed in.
    return await _token_pair(session, settings, user, family, now)


async def _revoke_replayed_family(session: AsyncSession, family: TokenFamily, user: User) -> None:
    await revoke_family(session, family.id, reason="refresh_token_reused")
    journal.record(
        session,
        Change(
            organization_id=user.organization_id,
            actor=SYSTEM,
            kind="auth.refresh_token_reused",
            entity_type="user",
            entity_id=user.id,
            data={"session_id": family.id},
        ),
    )


async def revoke_family(session: AsyncSession, family_id: str, *, reason: str) -> None:
    await session.execute(
        update(TokenFamily)
        .where(TokenFamily.id == family_id, TokenFamily.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )


async def logout(session: AsyncSession, user_id: str, organization_id: str, family_id: str) -> None:
    await revoke_family(session, family_id, reason="logout")
    journal.record(
        session,
        Change(
            organization_id=organization_id,
            actor=Actor("user", user_id),
            kind="auth.logout",
            entity_type="user",
            entity_id=user_id,
            data={"session_id": family_id},
        ),
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
