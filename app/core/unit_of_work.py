"""The request's session as its unit of work: who may commit it, and when.

`app.core.routing.UnitOfWorkRoute` commits a request's session once the response is rendered
and before it is sent. A service that commits by itself would put effects in the database
ahead of their idempotency record, so the session refuses such a commit.
"""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from starlette.requests import Request

SESSION_STATE = "db_session"
_REQUEST_KEY = "request_unit_of_work"
_FINISHING_KEY = "request_finishing"


class RequestCommitRefused(RuntimeError):
    """A service committed inside a request; only the unit of work may."""


def adopt_request_session(request: Request, session: AsyncSession) -> None:
    """Called by the session dependency: this session is the request's unit of work."""
    session.info[_REQUEST_KEY] = True
    request.state.db_session = session


def request_session_of(request: Request) -> AsyncSession | None:
    session: AsyncSession | None = getattr(request.state, SESSION_STATE, None)
    return session


async def commit(session: AsyncSession) -> None:
    """The unit of work's own commit."""
    session.info[_FINISHING_KEY] = True
    try:
        await session.commit()
    finally:
        session.info.pop(_FINISHING_KEY, None)


def install_commit_guard(session_class: type[Session]) -> None:
    @event.listens_for(session_class, "before_commit")
    def _refuse_early_commit(session: Session) -> None:
        if session.in_nested_transaction():
            return  # releasing a savepoint commits nothing
        if session.info.get(_REQUEST_KEY) and not session.info.get(_FINISHING_KEY):
            raise RequestCommitRefused(
                "A request's session is committed by its unit of work, not by a service."
            )


async def release_connection(session: AsyncSession) -> None:
    """Ends the transaction so far, which must have written nothing, so its connection goes
    back to the pool while the request waits on something slow (a password hash). The next
    statement starts a new transaction, scoped as before."""
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("release_connection() after a write would lose it")
    await session.rollback()
