"""The identity's hot SQL: who is calling, read once per request.

On PostgreSQL a request's first statement is a function that sets the tenant and reads the
caller's account and session in one round trip (migration 0022); elsewhere the session is
scoped first and the same columns are read.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ARRAY, String, bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import planner
from app.core.db import dialect_of
from app.core.tenancy import first_statement_scoped, scope_session_to
from app.identity.models import TokenFamily, User

# Built once: the columns a request needs to know who is calling and whether the session
# still stands. Plain columns, not entities, keep this per-request lookup cheap.
_PRINCIPAL_LOOKUP = (
    select(
        User.id,
        User.organization_id,
        User.role,
        User.email,
        User.is_active,
        TokenFamily.revoked_at,
        TokenFamily.expires_at,
    )
    .join(TokenFamily, TokenFamily.user_id == User.id)
    .where(User.id == bindparam("user_id"), TokenFamily.id == bindparam("session_id"))
)


_PRINCIPAL_FUNCTION = text(
    "SELECT user_id AS id, organization_id, role, email, is_active, revoked_at, expires_at "
    "FROM apexchainx_request_principal(:tenant, :user_id, :session_id, :planner_off)"
).bindparams(bindparam("planner_off", type_=ARRAY(String)))


async def principal_row(
    session: AsyncSession,
    organization_id: str,
    user_id: str,
    session_id: str,
    planner_off: tuple[str, ...] = (),
) -> Any:
    """The caller's id, organization, role, email, activity and session end, or None.
    `planner_off`: the planner methods the route's transaction runs without (app/core/planner)."""
    params = {"user_id": user_id, "session_id": session_id}
    if dialect_of(session) == "postgresql" and not session.in_transaction():
        # One round trip: the function sets the tenant and the route's planner methods, then
        # reads the session.
        found = await first_statement_scoped(
            session,
            organization_id,
            _PRINCIPAL_FUNCTION,
            {**params, "tenant": organization_id, "planner_off": list(planner_off)},
        )
        planner.mark_applied(session, planner_off)
    else:
        await scope_session_to(session, organization_id)
        found = await session.execute(_PRINCIPAL_LOOKUP, params)
    return found.one_or_none()
