"""Pure ASGI middleware: correlation ids and the request body limit.

Pure ASGI (not `BaseHTTPMiddleware`) so bodies stream through untouched and the limit is
enforced while the body is read, whatever the client claimed in `Content-Length`.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import structlog
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core import correlation
from app.core.errors import (
    error_response,
    internal_error_response,
    is_dependency_unavailable,
    unavailable_response,
)
from app.core.json_shape import SLICE, ShapeCounter, ShapeExceeded, ShapeLimits

log = structlog.get_logger("app.request")

UPLOAD_TOO_LARGE = "File exceeds {mb} MB limit"
BODY_TOO_LARGE = "Request body too large. Maximum allowed size is {limit} bytes."
MULTIPART_OVERHEAD = 64 * 1024


# On every response. An API answer is never a page to run scripts in or to frame; the docs
# pages set a policy of their own. HSTS is added in production (served over HTTPS).
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
API_CSP = "default-src 'none'; frame-ancestors 'none'"
# An API answer carries one organization's data, or a refusal of credentials: no cache keeps
# it (a shared proxy, a browser's back button). A route whose answer may be cached on purpose
# (a frozen statement, with its ETag) says so itself; the docs and static files may be kept.
NO_STORE = "no-store"
CACHEABLE_PATHS = ("/static", "/docs", "/redoc", "/openapi.json", "/favicon.ico")
HSTS = "max-age=63072000; includeSubDomains"
_CORRELATION = correlation.HEADER.lower().encode()
_API_CSP, _NO_STORE = API_CSP.encode(), NO_STORE.encode()


class CorrelationMiddleware:
    """Echoes or generates `X-Correlation-ID`, sets the security headers, logs one line per
    request, and turns an exception that escaped every handler into the error envelope (so
    even a 500 carries the id)."""

    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        self.headers = {**SECURITY_HEADERS, **({"Strict-Transport-Security": HSTS} if hsts else {})}
        # Encoded once: every response gets them (set over whatever the route set), and a
        # Content-Security-Policy and Cache-Control where the route set none.
        self._forced = [
            (name.lower().encode(), value.encode()) for name, value in self.headers.items()
        ]
        self._replaced = {name for name, _ in self._forced} | {correlation.HEADER.lower().encode()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cid = correlation.accept_or_generate(Headers(scope=scope).get(correlation.HEADER))
        correlation.set_correlation_id(cid)
        structlog.contextvars.bind_contextvars(correlation_id=cid)
        started = time.perf_counter()
        status = {"code": 500, "sent": False}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                status["sent"] = True
                message["headers"] = self._with_headers(message.get("headers", ()), cid, scope)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            if status["sent"]:
                raise
            if is_dependency_unavailable(exc):
                response = unavailable_response()
            else:
                log.exception("unhandled_error", error=type(exc).__name__)
                response = internal_error_response()
            await response(scope, receive, send_with_id)
        finally:
            log.info(
                "request",
                method=scope["method"],
                path=scope["path"],
                status=status["code"],
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
            )
            structlog.contextvars.unbind_contextvars("correlation_id")

    def _with_headers(self, raw: Any, cid: str, scope: Scope) -> list[tuple[bytes, bytes]]:
        """The response's headers with the correlation id and the security headers: one pass
        over what the route set (MutableHeaders rescans the list for every header)."""
        headers = [(name, value) for name, value in raw if name not in self._replaced]
        names = {name for name, _ in headers}
        headers.append((_CORRELATION, cid.encode("latin-1")))
        headers.extend(self._forced)
        if b"content-security-policy" not in names:
            headers.append((b"content-security-policy", _API_CSP))
        if b"cache-control" not in names and not scope["path"].startswith(CACHEABLE_PATHS):
            headers.append((b"cache-control", _NO_STORE))
        return headers


class RequestLimitsMiddleware:
    """Refuses bodies over the limit with 413, by header when declared and by counting bytes
    as they arrive otherwise; nothing past the limit is buffered. A JSON body is also refused
    with 413 as soon as its shape (values, keys, containers, nesting) passes its limit, before
    anything parses it (app/core/json_shape.py). Also refuses NUL characters in the path or
    query (no database stores them)."""

    def __init__(
        self,
        app: ASGIApp,
        max_body_bytes: int,
        max_upload_bytes: int,
        json_shape: ShapeLimits | None = None,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes
        self.json_shape = json_shape

    def _limit_and_message(self, headers: Headers) -> tuple[int, str]:
        if headers.get("content-type", "").startswith("multipart/form-data"):
            # The file itself may be as large as the upload limit; the form's own framing
            # (boundaries, part headers, other fields) gets a small allowance on top.
            mb = self.max_upload_bytes // (1024 * 1024)
            return self.max_upload_bytes + MULTIPART_OVERHEAD, UPLOAD_TOO_LARGE.format(mb=mb)
        return self.max_body_bytes, BODY_TOO_LARGE.format(limit=self.max_body_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _has_nul(scope):
            response = error_response(
                422, "VALIDATION_ERROR", "The URL must not contain NUL characters."
            )
            await response(scope, receive, send)
            return
        headers = Headers(scope=scope)
        limit, message = self._limit_and_message(headers)
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            if declared.isdigit():
                response = error_response(413, "PAYLOAD_TOO_LARGE", message, {"max_bytes": limit})
            else:
                response = error_response(400, "VALIDATION_ERROR", "Invalid Content-Length.")
            await _drain_nothing(response, scope, receive, send)
            return
        received = 0
        shape = self._shape_counter(headers)

        async def counting_receive() -> Message:
            nonlocal received
            msg = await receive()
            if msg["type"] == "http.request":
                body = msg.get("body", b"")
                received += len(body)
                if received > limit:
                    raise HTTPException(413, detail=message)
                if shape is not None:
                    await _count_shape(shape, body)
            return msg

        await self.app(scope, counting_receive, send)

    def _shape_counter(self, headers: Headers) -> ShapeCounter | None:
        """JSON bodies (declared so, or undeclared: FastAPI parses those as JSON too)."""
        content_type = headers.get("content-type", "")
        if self.json_shape is None or (content_type and "json" not in content_type):
            return None
        return ShapeCounter(self.json_shape)


async def _count_shape(shape: ShapeCounter, body: bytes) -> None:
    """Counted a slice at a time, letting other requests run between slices."""
    for start in range(0, len(body), SLICE):
        if start:
            await asyncio.sleep(0)
        try:
            shape.feed_slice(body[start : start + SLICE])
        except ShapeExceeded as exc:
            raise HTTPException(413, detail=str(exc)) from None


def _has_nul(scope: Scope) -> bool:
    return "\x00" in scope["path"] or b"%00" in scope.get("query_string", b"")


async def _drain_nothing(response: Any, scope: Scope, receive: Receive, send: Send) -> None:
    """Answer without reading the body; the server closes the connection afterwards."""
    response.headers["Connection"] = "close"
    await response(scope, receive, send)
