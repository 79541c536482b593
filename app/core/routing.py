"""One transaction per request, finished before a byte of the response is sent.

Every feature router is an `APIRouter` from here, whose routes are `UnitOfWorkRoute`s. The
route runs the endpoint (dependencies, service calls, serialization), turns a handled error
into its response, and only then finishes the request's session:

- a success (or an error marked `persist`) stores the idempotent response, if the request
  reserved a key, and commits it together with the request's effects: both or neither;
- any other error rolls the effects back (a 4xx is still stored under its key, on its own);
- an unexpected exception rolls back and propagates (500/503), leaving the key free.

Services never commit: a commit from inside a request is refused
(`app.core.unit_of_work.RequestCommitRefused`), so no effect can reach the database ahead of
its idempotency record.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import fastapi
from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from app.core import idempotency
from app.core.errors import (
    AppError,
    ValidationFailed,
    integrity_conflict_response,
    render_handled_error,
)
from app.core.unit_of_work import commit, request_session_of

_HANDLED = (AppError, RequestValidationError, StarletteHTTPException)


def _keeps_effects(response: Response, error: BaseException | None) -> bool:
    if error is None:
        return response.status_code < 400
    return isinstance(error, AppError) and error.persist


async def finish(
    request: Request,
    response: Response,
    error: BaseException | None,
    secret_fields: tuple[str, ...],
) -> Response:
    """Commits or rolls back the request's session, with its idempotency record."""
    session = request_session_of(request)
    if session is None:
        return response
    reservation = idempotency.reservation_of(request)
    try:
        if _keeps_effects(response, error):
            if reservation is not None:
                idempotency.store(session, reservation, response, secret_fields)
            await commit(session)
            return response
        await session.rollback()
        if reservation is not None and idempotency.replayable_failure(response.status_code):
            if await idempotency.relock(session, reservation):
                idempotency.store(session, reservation, response, ())
            await commit(session)
    except IntegrityError:
        # The commit found a race lost (a unique key taken meanwhile): nothing was written.
        await session.rollback()
        return integrity_conflict_response()
    return response


class UnitOfWorkRoute(APIRoute):
    refuse_unknown_query = True

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        secret_fields: tuple[str, ...] = tuple(getattr(self.response_model, "secret_fields", ()))
        known = query_names(self.dependant) if self.refuse_unknown_query else None

        async def run(request: Request) -> Response:
            error: BaseException | None = None
            try:
                if known is not None:
                    refuse_unknown_query(request, known)
                response = await handler(request)
            except _HANDLED as exc:
                error = exc
                response = render_handled_error(exc)
            except IntegrityError:
                session = request_session_of(request)
                if session is not None:
                    await session.rollback()
                return integrity_conflict_response()
            if secret_fields and response.status_code < 300:
                response.headers["Cache-Control"] = "no-store"
            return await finish(request, response, error, secret_fields)

        return run


def query_names(dependant: Dependant) -> frozenset[str]:
    """Every query parameter the route and its dependencies declare (a model's fields too)."""
    names: set[str] = set()
    pending = [dependant]
    while pending:
        current = pending.pop()
        for field in current.query_params:
            model = field.field_info.annotation
            if isinstance(model, type) and issubclass(model, BaseModel):
                names.update(f.alias or n for n, f in model.model_fields.items())
            else:
                names.add(field.alias)
        pending.extend(current.dependencies)
    return frozenset(names)


def refuse_unknown_query(request: Request, known: frozenset[str]) -> None:
    """A misspelt filter would otherwise be ignored and the list answered unfiltered."""
    unknown = sorted({name for name in request.query_params if name not in known})
    if unknown:
        raise ValidationFailed(
            f"Unknown query parameter{'s' if len(unknown) > 1 else ''}: "
            + ", ".join(name[:64] for name in unknown[:10])
            + (f" (and {len(unknown) - 10} more)" if len(unknown) > 10 else "")
            + (
                f". This route takes: {', '.join(sorted(known))}."
                if known
                else ". This route takes no query parameters."
            ),
            details={
                "errors": [
                    {
                        "loc": ["query", name[:64]],
                        "msg": "unknown query parameter",
                        "type": "extra_forbidden",
                    }
                    for name in unknown[:10]
                ]
            },
        )


class APIRouter(fastapi.APIRouter):
    """Every feature's router: its routes are units of work."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("route_class", UnitOfWorkRoute)
        super().__init__(**kwargs)
