"""The only reads a request makes across organizations, before it knows its own: how they are
made. Each feature's own crossings (app/auth/crossings.py, app/payments/crossings.py) use it.

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
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import dialect_of
from app.core.tenancy import cross_tenant

SecretKind = Literal["refresh_token", "api_key", "password_reset", "share_token"]


@dataclass(frozen=True, slots=True)
class Owner:
    id: str
    organization_id: str


def postgres(session: AsyncSession) -> bool:
    return dialect_of(session) == "postgresql"


def call(name: str, columns: Sequence[str], *arguments: Any) -> Any:
    function = getattr(func, name)(*arguments).table_valued(*columns)
    return select(*(function.c[c] for c in columns))


async def secret_owner(
    session: AsyncSession, kind: SecretKind, secret_hash: str, *, held_by: Any
) -> Owner | None:
    """Where the secret presented (by its hash) belongs. `held_by` is the column of the
    owning feature's table that holds such hashes (the query on SQLite)."""
    if postgres(session):
        query = call("apexchainx_secret_owner", ("id", "organization_id"), kind, secret_hash)
        row = (await session.execute(query)).first()
    else:
        table = held_by.class_
        query = select(table.id, table.organization_id).where(held_by == secret_hash)
        async with cross_tenant(session, f"find the {kind} presented"):
            row = (await session.execute(query)).first()
    return Owner(*row) if row is not None else None
