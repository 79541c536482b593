"""Every error leaves the service in one envelope:

`{"error": {"code", "message", "details", "timestamp", "correlation_id"}}`.

Business errors are `AppError` subclasses; the handlers below render them and translate
framework errors (validation, unknown route, wrong method, database down) into the same shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import compile_path

from app.core.clock import isoformat, utcnow
from app.core.correlation import get_correlation_id

log = structlog.get_logger(__name__)


class AppError(Exception):
    status_code = 400
    code = "VALIDATION_ERROR"
    message = "The request could not be processed."

    def __init__(
        self,
        message: str | None = None,
        *,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        code: str | None = None,
        persist: bool = False,
    ) -> None:
        self.message = message or self.message
        self.details = details or {}
        self.headers = headers or {}
        if code:
            self.code = code
        # The request's effects so far are committed with this error (a counted failure, a
        # revoked session), instead of being rolled back.
        self.persist = persist
        super().__init__(self.message)

    def to_response(self) -> Response:
        return error_response(self.status_code, self.code, self.message, self.details, self.headers)


class ValidationFailed(AppError):
    status_code = 422
    code = "VALIDATION_ERROR"
    message = "The request is not valid."

    @classmethod
    def of_field(cls, field: str, message: str, *, persist: bool = False) -> ValidationFailed:
        """One body field refused by a rule the schema cannot state (the clock, stored
        state), in the shape of every other validation error."""
        return cls(
            message,
            details={"errors": [{"loc": ["body", field], "msg": message, "type": "value_error"}]},
            persist=persist,
        )


class Unauthorized(AppError):
    status_code = 401
    code = "UNAUTHORIZED"
    message = "Missing or invalid authentication."

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.headers.setdefault("WWW-Authenticate", "Bearer")


class Forbidden(AppError):
    status_code = 403
    code = "FORBIDDEN"
    message = "Your role does not allow this action."


class NotFound(AppError):
    status_code = 404
    code = "NOT_FOUND"
    message = "Resource not found."


class Conflict(AppError):
    status_code = 409
    code = "CONFLICT"
    message = "The resource is in a state that does not allow this action."


class Unprocessable(AppError):
    status_code = 422
    code = "UNPROCESSABLE_ENTITY"
    message = "The request is well-formed but cannot be applied."


class PayloadTooLarge(AppError):
    status_code = 413
    code = "PAYLOAD_TOO_LARGE"


class RateLimited(AppError):
    status_code = 429
    code = "RATE_LIMIT_EXCEEDED"
    message = "Too many requests."


class ServiceUnavailable(AppError):
    status_code = 503
    code = "SERVICE_UNAVAILABLE"
    message = "A service this request depends on is unavailable. Try again shortly."


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "details": details or {},
            "timestamp": isoformat(utcnow()),
            "correlation_id": get_correlation_id(),
        }
    }


def error_response(
    status_code: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        error_body(code, message, details), status_code=status_code, headers=headers
    )


# FastAPI's answer to a body it could not decode.
BODY_NOT_PARSED = "There was an error parsing the body"

_STATUS_CODES = {
    400: "VALIDATION_ERROR",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "UNPROCESSABLE_ENTITY",
    429: "RATE_LIMIT_EXCEEDED",
    503: "SERVICE_UNAVAILABLE",
}


def validation_details(errors: Sequence[Any]) -> dict[str, Any]:
    """Pydantic's errors without the offending input, which may be huge or a secret."""
    return {
        "errors": [
            {
                "loc": list(err.get("loc", ())),
                "msg": str(err.get("msg", "")),
                "type": str(err.get("type", "")),
            }
            for err in errors
        ]
    }


def render_handled_error(exc: Exception) -> Response:
    """The response of an error the API answers on purpose (business, validation, HTTP)."""
    if isinstance(exc, AppError):
        return exc.to_response()
    if isinstance(exc, RequestValidationError):
        return error_response(
            422, "VALIDATION_ERROR", "The request is not valid.", validation_details(exc.errors())
        )
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:
        # The framework's answer to a body it could not decode (not UTF-8, broken multipart):
        # malformed like any other malformed body.
        message = "The request body is not valid JSON (UTF-8)."
        if exc.detail != BODY_NOT_PARSED:
            message = f"The request body could not be read: {exc.detail}"
        return error_response(
            422,
            "VALIDATION_ERROR",
            message,
            {"errors": [{"loc": ["body"], "msg": message, "type": "body_invalid"}]},
        )
    code = _STATUS_CODES.get(exc.status_code, "HTTP_ERROR")
    message = exc.detail if isinstance(exc.detail, str) else "Request failed."
    if exc.status_code == 404 and message == "Not Found":
        message = "Resource not found."
    return error_response(exc.status_code, code, message, headers=dict(exc.headers or {}))


async def _handled_error(request: Request, exc: Exception) -> Response:
    response = render_handled_error(exc)
    if response.status_code == 405:
        response.headers["Allow"] = ", ".join(allowed_methods(request))
    return response


def allowed_methods(request: Request) -> list[str]:
    """Every method of the path, not only those of the first route that matched it."""
    table: list[tuple[Any, int, set[str]]] | None = getattr(request.app.state, "method_table", None)
    if table is None:
        table = [
            (
                compile_path(context.path or "")[0],
                (context.path or "").count("{"),
                set(getattr(context.route, "methods", ())),
            )
            for context in iter_route_contexts(request.app.routes)
        ]
        request.app.state.method_table = table
    path = request.url.path
    matches = [(params, methods) for regex, params, methods in table if regex.match(path)]
    # `/faults/rules` is its own path, not a `/faults/{fault_id}`: the templates with the
    # fewest parameters are the path the document describes.
    fewest = min((params for params, _ in matches), default=0)
    return sorted({m for params, methods in matches if params == fewest for m in methods})


_UNAVAILABLE = (
    InterfaceError,
    PoolTimeoutError,
    ConnectionError,
    OSError,
    TimeoutError,
    RedisConnectionError,
    RedisTimeoutError,
)


# OperationalError also covers SQL mistakes on SQLite; only these mean "try again later".
_TRANSIENT_WORDS = (
    "locked",
    "unable to open",
    "connect",
    "too many",
    "timeout",
    "terminat",
    "shutting down",
    "closed",
)


def is_dependency_unavailable(exc: BaseException) -> bool:
    """Database or Redis unreachable: the client should retry, it did nothing wrong."""
    if isinstance(exc, _UNAVAILABLE):
        return True
    if isinstance(exc, OperationalError):
        message = str(exc.orig if exc.orig is not None else exc).lower()
        return any(word in message for word in _TRANSIENT_WORDS)
    if isinstance(exc, DBAPIError):
        # A deadlock or serialization failure: the transaction was rolled back whole and
        # retrying it is safe.
        message = str(exc.orig if exc.orig is not None else exc).lower()
        transient = ("deadlock", "serializ", "too many clients", "cannot connect now")
        return exc.connection_invalidated or any(word in message for word in transient)
    return False


def unavailable_response() -> JSONResponse:
    return error_response(
        503, "SERVICE_UNAVAILABLE", ServiceUnavailable.message, headers={"Retry-After": "5"}
    )


def internal_error_response() -> JSONResponse:
    return error_response(500, "INTERNAL_SERVER_ERROR", "An unexpected error occurred.")


async def _dependency_down(_: Request, exc: Exception) -> JSONResponse:
    log.warning("dependency_unavailable", error=type(exc).__name__)
    return unavailable_response()


def integrity_conflict_response() -> JSONResponse:
    """A unique or foreign-key constraint refused the write: two requests raced for the same
    thing, and this one lost. The transaction was rolled back."""
    log.info("integrity_conflict")
    return error_response(409, "CONFLICT", "The request conflicts with existing data.")


async def _integrity_error(_: Request, exc: Exception) -> JSONResponse:
    return integrity_conflict_response()


async def _unhandled_error(_: Request, exc: Exception) -> JSONResponse:
    if is_dependency_unavailable(exc):
        return await _dependency_down(_, exc)
    log.exception("unhandled_error", error=type(exc).__name__)
    return internal_error_response()


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _handled_error)
    app.add_exception_handler(RequestValidationError, _handled_error)
    app.add_exception_handler(StarletteHTTPException, _handled_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(OperationalError, _unhandled_error)
    for exc_class in _UNAVAILABLE:
        app.add_exception_handler(exc_class, _dependency_down)
    app.add_exception_handler(Exception, _unhandled_error)
