"""Errors of the fault gateway (`/fault`) in the form its clients parse:
`{type, code, message, doc_url}`, with 400 for a request that is not valid.

The routes behind the gateway are the API's own, so every error is first rendered in the API's
envelope, wherever it arises (validation, credentials, body limit, rate limit, a dependency
down); this middleware, outside all of them, rewrites the envelope on the gateway path only.
One renderer for the whole API, one translation at its edge.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send


@dataclass(frozen=True, slots=True)
class GatewayError:
    status: int
    type: str
    summary: str
    remedy: str


CATALOG: dict[str, GatewayError] = {
    "parameter_missing": GatewayError(
        400,
        "invalid_request_error",
        "A required parameter is missing.",
        "Send every required field of the request body; the message names the one missing.",
    ),
    "parameter_invalid": GatewayError(
        400,
        "invalid_request_error",
        "A parameter has a value the API does not accept.",
        "Correct the named parameter: its type, length, pattern or allowed values.",
    ),
    "body_invalid": GatewayError(
        400,
        "invalid_request_error",
        "The request body is not a JSON object the API can read.",
        "Send `Content-Type: application/json` with a UTF-8 JSON object.",
    ),
    "api_key_invalid": GatewayError(
        401,
        "authentication_error",
        "The API key or access token is missing, invalid, expired or revoked.",
        "Send `Authorization: Bearer <API key or access token>` (or `X-API-Key`).",
    ),
    "permission_denied": GatewayError(
        403,
        "permission_error",
        "The credentials do not allow this action.",
        "Use a key or a user whose role allows it (fault intake: engineer or an API key).",
    ),
    "resource_missing": GatewayError(
        404,
        "invalid_request_error",
        "The resource does not exist.",
        "Check the identifier.",
    ),
    "method_not_allowed": GatewayError(
        405,
        "invalid_request_error",
        "The path does not answer this method.",
        "Use one of the methods in the `Allow` header.",
    ),
    "request_conflict": GatewayError(
        409,
        "invalid_request_error",
        "The request conflicts with another in flight under the same idempotency key.",
        "Retry after the first request with that key has finished.",
    ),
    "request_too_large": GatewayError(
        413,
        "invalid_request_error",
        "The request body is larger than the API accepts.",
        "Send a smaller body, or many faults with `POST /api/v1/faults/batch`.",
    ),
    "rate_limit_exceeded": GatewayError(
        429,
        "rate_limit_error",
        "Too many requests.",
        "Wait the seconds in `Retry-After`, then retry.",
    ),
    "internal_server_error": GatewayError(
        500,
        "api_error",
        "An unexpected error occurred on the server.",
        "Retry; if it persists, contact support with the `X-Correlation-ID` header.",
    ),
    "service_unavailable": GatewayError(
        503,
        "api_error",
        "A service the request depends on does not answer.",
        "Wait the seconds in `Retry-After`, then retry: nothing was changed.",
    ),
}
_BY_STATUS = {e.status: code for code, e in CATALOG.items() if code != "parameter_invalid"}
_BY_STATUS[422] = _BY_STATUS[400] = "parameter_invalid"
DOC_PATH = "/docs/errors"


def _parameter(loc: list[Any]) -> str:
    names = [str(part) for part in loc if part not in ("body", "query", "path", "header")]
    return ".".join(names)


def _validation(details: dict[str, Any], message: str) -> tuple[str, str]:
    errors = details.get("errors") or []
    if not errors:
        return "parameter_invalid", message
    first = errors[0]
    name = _parameter(first.get("loc") or [])
    if first.get("type") == "json_invalid":
        return "body_invalid", "The request body is not valid JSON."
    if first.get("type") == "body_invalid":
        return "body_invalid", message
    if not name:
        if first.get("type") == "missing":
            return "body_invalid", "A JSON object is required as the request body."
        return "body_invalid", f"The request body is not valid: {first.get('msg')}."
    if first.get("type") == "missing":
        return "parameter_missing", f"The '{name}' parameter is required for this request."
    return "parameter_invalid", f"The '{name}' parameter is invalid: {first.get('msg')}."


def translate(status: int, envelope: dict[str, Any], base_url: str) -> tuple[int, dict[str, Any]]:
    """The gateway's status and body for an error the API rendered in its envelope."""
    error = envelope.get("error") or {}
    message = str(error.get("message") or "The request failed.")
    code = _BY_STATUS.get(status, "internal_server_error" if status >= 500 else "parameter_invalid")
    if status in (400, 422):
        code, message = _validation(error.get("details") or {}, message)
    entry = CATALOG[code]
    body = {
        "type": entry.type,
        "code": code,
        "message": message,
        "doc_url": f"{base_url.rstrip('/')}{DOC_PATH}/{code}",
    }
    return entry.status, body


class FaultGatewayErrors:
    """Rewrites error responses on `paths` into the gateway's form; passes all else through."""

    def __init__(self, app: ASGIApp, *, paths: tuple[str, ...]) -> None:
        self.app = app
        self.paths = frozenset(p.rstrip("/") for p in paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].rstrip("/") not in self.paths:
            await self.app(scope, receive, send)
            return
        held: Message | None = None
        chunks: list[bytes] = []

        async def rewrite(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start" and message["status"] >= 400:
                held = message
                return
            if held is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                await self._send_translated(scope, held, b"".join(chunks), send)

        await self.app(scope, receive, rewrite)

    @staticmethod
    async def _send_translated(scope: Scope, start: Message, body: bytes, send: Send) -> None:
        try:
            envelope = orjson.loads(body)
        except orjson.JSONDecodeError:
            envelope = {}
        status, seed = translate(start["status"], envelope, str(Request(scope).base_url))
        payload = orjson.dumps(seed)
        headers = MutableHeaders(raw=list(start["headers"]))
        headers["content-length"] = str(len(payload))
        headers["content-type"] = "application/json"
        await send({"type": "http.response.start", "status": status, "headers": headers.raw})
        await send({"type": "http.response.body", "body": payload})
