"""The only reads a request makes across organizations, before it knows its own.

Sign-in finds an account by email; a refresh token, an API key, a reset token or a share token
is found by its hash; a payer's envelopes hold sequence numbers whoever issued them. On
PostgreSQL each is a SECURITY DEFINER function owned by the system role (migration 0022):
the application role may call it and may not redefine it, and cannot otherwise read another
organization's rows. On SQLite (one process, no roles) the same query runs in the session.

Each answers ids and organizations, never whole rows: the caller scopes its session to the
organization found and loads what it needs through row-level security as usual.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import String, func, or_, select
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.tenancy import cross_tenant
from app.db import dialect_of

SecretKind = Literal["refresh_token", "api_key", "password_reset", "share_token"]


@dataclass(frozen=True, slots=True)
class Owner:
    id: str
    organization_id: str


@dataclass(frozen=True, slots=True)
class SignInAccount:
    id: str
    organization_id: str
    password_hash: str


def _postgres(session: AsyncSession) -> bool:
    return dialect_of(session) == "postgresql"


def _call(name: str, columns: Sequence[str], *arguments: Any) -> Any:
    function = getattr(func, name)(*arguments).table_valued(*columns)
    return select(*(function.c[c] for c in columns))


async def secret_owner(session: AsyncSession, kind: SecretKind, secret_hash: str) -> Owner | None:
    """Where the secret presented (by its hash) belongs."""
    if _postgres(session):
        query = _call("apexchainx_secret_owner", ("id", "organization_id"), kind, secret_hash)
        row = (await session.execute(query)).first()
    else:
        async with cross_tenant(session, f"find the {kind} presented"):
            row = (await session.execute(_secret_query(kind, secret_hash))).first()
    return Owner(*row) if row is not None else None


def _secret_query(kind: SecretKind, secret_hash: str) -> Any:
    from app.auth.models import ApiKey, PasswordReset, RefreshToken
    from app.faults.models import FaultShareToken

    model: Any
    model, hashed = {
        "refresh_token": (RefreshToken, RefreshToken.token_hash),
        "api_key": (ApiKey, ApiKey.key_hash),
        "password_reset": (PasswordReset, PasswordReset.token_hash),
        "share_token": (FaultShareToken, FaultShareToken.token_hash),
    }[kind]
    return select(model.id, model.organization_id).where(hashed == secret_hash)


async def sign_in_account(
    session: AsyncSession, email: str, organization_id: str | None
) -> SignInAccount | None:
    """The one account a sign-in attempt is about: the named organization's, else the
    email's oldest active one."""
    if _postgres(session):
        columns = ("id", "organization_id", "password_hash")
        query = _call("apexchainx_sign_in_account", columns, email, organization_id)
        row = (await session.execute(query)).first()
    else:
        from app.auth.models import User

        query = (
            select(User.id, User.organization_id, User.password_hash)
            .where(User.email == email, User.is_active.is_(True))
            .order_by(User.created_at, User.id)
            .limit(1)
        )
        if organization_id is not None:
            query = query.where(User.organization_id == organization_id)
        async with cross_tenant(session, "sign in by email"):
            row = (await session.execute(query)).first()
    return SignInAccount(*row) if row is not None else None


async def email_accounts(session: AsyncSession, email: str, *, active: bool) -> list[Owner]:
    """The email's accounts in every organization (`active`: the active ones only)."""
    if _postgres(session):
        query = _call("apexchainx_email_accounts", ("id", "organization_id", "is_active"), email)
        rows = (await session.execute(query)).all()
    else:
        from app.auth.models import User

        async with cross_tenant(session, "an email's accounts"):
            rows = (
                await session.execute(
                    select(User.id, User.organization_id, User.is_active).where(User.email == email)
                )
            ).all()
    return [
        Owner(id_, organization) for id_, organization, is_active in rows if is_active or not active
    ]


async def payer_sequences(
    session: AsyncSession,
    payer: str,
    above: int,
    *,
    besides: str,
    statuses: Sequence[str],
    alive_after: datetime,
) -> set[int]:
    """Sequence numbers above `above` that the payer's envelopes in `statuses` hold."""
    if _postgres(session):
        query = _call(
            "apexchainx_payer_sequences",
            ("sequence",),
            payer,
            above,
            besides,
            array(list(statuses), type_=String),
            alive_after,
        )
        rows = (await session.execute(query)).all()
    else:
        from app.payments.models import Payment

        alive = or_(Payment.valid_until.is_(None), Payment.valid_until > alive_after)
        async with cross_tenant(session, "sequence numbers a payer's envelopes hold"):
            rows = (
                await session.execute(
                    select(Payment.sequence).where(
                        Payment.from_address == payer,
                        Payment.status.in_(list(statuses)),
                        Payment.sequence > above,
                        Payment.id != besides,
                        alive,
                    )
                )
            ).all()
    return {int(n) for (n,) in rows if n is not None}


async def payer_waiting(
    session: AsyncSession, payer: str, sequence: int, reason: str
) -> list[Owner]:
    """The payer's pending envelopes waiting (`reason`) behind `sequence`."""
    if _postgres(session):
        query = _call(
            "apexchainx_payer_waiting", ("id", "organization_id"), payer, sequence, reason
        )
        rows = (await session.execute(query)).all()
    else:
        from app.payments.models import Payment, PaymentStatus

        async with cross_tenant(session, "a payer's envelopes waiting behind one"):
            rows = (
                await session.execute(
                    select(Payment.id, Payment.organization_id).where(
                        Payment.from_address == payer,
                        Payment.status == PaymentStatus.pending,
                        Payment.pending_reason == reason,
                        Payment.sequence > sequence,
                    )
                )
            ).all()
    return [Owner(*row) for row in rows]
