"""Reads across organizations before a sign-in knows its own: the account an email names
(SECURITY DEFINER functions on PostgreSQL, migration 0022; app/core/crossings.py)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.crossings import Owner, call, postgres
from app.core.tenancy import cross_tenant
from app.identity.models import User


@dataclass(frozen=True, slots=True)
class SignInAccount:
    id: str
    organization_id: str
    password_hash: str


async def sign_in_account(
    session: AsyncSession, email: str, organization_id: str | None
) -> SignInAccount | None:
    """The one account a sign-in attempt is about: the named organization's, else the
    email's oldest active one."""
    if postgres(session):
        columns = ("id", "organization_id", "password_hash")
        query = call("apexchainx_sign_in_account", columns, email, organization_id)
        row = (await session.execute(query)).first()
    else:
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
    if postgres(session):
        query = call("apexchainx_email_accounts", ("id", "organization_id", "is_active"), email)
        rows = (await session.execute(query)).all()
    else:
        async with cross_tenant(session, "an email's accounts"):
            rows = (
                await session.execute(
                    select(User.id, User.organization_id, User.is_active).where(User.email == email)
                )
            ).all()
    return [
        Owner(id_, organization) for id_, organization, is_active in rows if is_active or not active
    ]
