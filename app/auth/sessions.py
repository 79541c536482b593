"""A person's sessions: list them, end one, end them all, and hear when one's own ends.

A session is a token family (one sign-in and its refreshes). `GET /auth/events` is a
server-sent event stream a signed-in page keeps open: it says when the page's session is
ended (from another session, by a password change, by expiry) or the user's role changes,
with a heartbeat between. It polls the session's row (a primary-key read every few seconds)
rather than a broker: any worker process serves any stream, and nothing is lost while a
stream reconnects. A stream closes when the access token that opened it expires; the
browser's EventSource reconnects with the refreshed cookie.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

import orjson
from fastapi import Path, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import Field
from sqlalchemy import ColumnElement, select, update

from app.core.clock import utcnow
from app.core.db import Database, SessionDep
from app.core.errors import NotFound
from app.core.routing import APIRouter
from app.core.schemas import Message, OutputModel, UTCTimestamp
from app.core.tenancy import scope_session_to
from app.identity.cookies import clear_session_cookies
from app.identity.dependencies import CurrentPrincipal, Principal, SettingsDep
from app.identity.models import TokenFamily, User
from app.journal import journal
from app.journal.entries import Change

router = APIRouter(prefix="/auth", tags=["Auth"])

POLL_SECONDS = 2.0
HEARTBEAT_SECONDS = 15.0
MAX_LISTED = 100


class SessionOut(OutputModel):
    id: str
    current: bool = Field(description="The session this request belongs to.")
    device: str | None = Field(description="The client's User-Agent at its last use.")
    address: str | None = Field(description="The client's address at its last use.")
    created_at: UTCTimestamp = Field(description="Its sign-in.")
    last_seen_at: UTCTimestamp | None = Field(
        description="Its sign-in or latest refresh (a page refreshes every 15 minutes)."
    )
    expires_at: UTCTimestamp


class SessionsOut(OutputModel):
    sessions: list[SessionOut] = Field(description="Active sessions, last seen first.")


def _require_session(principal: Principal) -> str:
    if principal.session_id is None:
        raise NotFound("API keys have no session; revoke the key instead.")
    return principal.session_id


def _active(user_id: str) -> list[ColumnElement[bool]]:
    return [
        TokenFamily.user_id == user_id,
        TokenFamily.revoked_at.is_(None),
        TokenFamily.expires_at > utcnow(),
    ]


@router.get("/sessions", response_model=SessionsOut, summary="My active sessions")
async def list_sessions(principal: CurrentPrincipal, session: SessionDep) -> SessionsOut:
    """Where each of the caller's active sessions is used from and when it was last seen."""
    current = _require_session(principal)
    rows = (
        await session.execute(
            select(TokenFamily)
            .where(*_active(principal.id))
            .order_by(TokenFamily.last_seen_at.desc().nulls_last(), TokenFamily.id.desc())
            .limit(MAX_LISTED)
        )
    ).scalars()
    return SessionsOut(
        sessions=[
            SessionOut(
                id=row.id,
                current=row.id == current,
                device=row.user_agent,
                address=row.ip_address,
                created_at=row.created_at,
                last_seen_at=row.last_seen_at,
                expires_at=row.expires_at,
            )
            for row in rows
        ]
    )


SessionId = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_]+$")]


@router.delete("/sessions/{session_id}", response_model=Message, summary="End one of my sessions")
async def end_session(
    session_id: SessionId, principal: CurrentPrincipal, session: SessionDep
) -> Message:
    """Ends one of the caller's sessions (a lost laptop): its tokens stop working and its open
    pages are told. 404 for a session that is not the caller's or has ended."""
    _require_session(principal)
    ended = await _revoke(session, principal, [TokenFamily.id == session_id], "revoked_by_user")
    if not ended:
        raise NotFound("No such active session of yours.")
    return Message(message="Session ended.")


@router.post("/logout-all", response_model=Message, summary="Log out everywhere")
async def logout_all(
    principal: CurrentPrincipal, session: SessionDep, response: Response, settings: SettingsDep
) -> Message:
    """Ends every session of the caller, this one included; their open pages are told."""
    _require_session(principal)
    count = len(await _revoke(session, principal, [], "logout_all"))
    clear_session_cookies(response, settings)
    return Message(message=f"Logged out of {count} session{'s' if count != 1 else ''}.")


async def _revoke(
    session: SessionDep, principal: Principal, where: list[ColumnElement[bool]], reason: str
) -> list[str]:
    ended = list(
        (
            await session.execute(
                update(TokenFamily)
                .where(*_active(principal.id), *where)
                .values(revoked_at=utcnow(), revoked_reason=reason)
                .returning(TokenFamily.id)
            )
        ).scalars()
    )
    if ended:
        journal.record(
            session,
            Change(
                organization_id=principal.organization_id,
                actor=principal.actor,
                kind="auth.sessions_ended",
                entity_type="user",
                entity_id=principal.id,
                data={"session_ids": ended, "reason": reason},
            ),
        )
    return ended


@dataclass(frozen=True, slots=True)
class _State:
    ended: str | None  # why the session ended, or None while it stands
    role: str


async def _state_of(database: Database, principal: Principal, session_id: str) -> _State:
    async with database.sessionmaker() as session:
        await scope_session_to(session, principal.organization_id)
        row = (
            await session.execute(
                select(
                    TokenFamily.revoked_at,
                    TokenFamily.revoked_reason,
                    TokenFamily.expires_at,
                    User.role,
                    User.is_active,
                )
                .join(User, User.id == TokenFamily.user_id)
                .where(TokenFamily.id == session_id)
            )
        ).one_or_none()
    if row is None or not row.is_active:
        return _State("account_deactivated", principal.role.value)
    if row.revoked_at is not None:
        return _State(row.revoked_reason or "revoked", row.role)
    if row.expires_at <= utcnow():
        return _State("session_expired", row.role)
    return _State(None, row.role)


def _event(name: str, data: dict[str, object]) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


async def _stream(
    request: Request, principal: Principal, session_id: str, until: datetime
) -> AsyncIterator[bytes]:
    database: Database = request.app.state.database
    role = principal.role.value
    yield b"retry: 5000\n" + _event("ready", {"session_id": session_id, "role": role})
    beat = time.monotonic()
    while utcnow() < until and not await request.is_disconnected():
        state = await _state_of(database, principal, session_id)
        if state.ended is not None:
            yield _event("session_revoked", {"reason": state.ended})
            return
        if state.role != role:
            yield _event("role_changed", {"role": state.role, "previous": role})
            role = state.role
        if time.monotonic() - beat >= HEARTBEAT_SECONDS:
            beat = time.monotonic()
            yield _event("heartbeat", {"timestamp": int(time.time())})
        await asyncio.sleep(POLL_SECONDS)


@router.get(
    "/events",
    summary="Session events (server-sent)",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
            "description": "`ready`, then `session_revoked` {reason}, `role_changed` {role, "
            "previous} and `heartbeat` {timestamp} every 15 s, until the session ends or the "
            "access token that opened the stream expires.",
        }
    },
)
async def session_events(
    principal: CurrentPrincipal, request: Request, settings: SettingsDep
) -> StreamingResponse:
    """A signed-in page's line to its own session: it hears within seconds that the session
    was ended elsewhere (log out everywhere, a revoked session, a password change) or that
    the user's role changed. Cookie or Bearer."""
    session_id = _require_session(principal)
    until = utcnow() + timedelta(minutes=settings.access_token_expire_minutes)
    return StreamingResponse(
        _stream(request, principal, session_id, until),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
