"""The compat routes: /api/v1's unit of work, its errors flattened the frontend's way."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi import Request
from pydantic import ValidationError
from starlette.responses import Response

from app.core.errors import ValidationFailed, render_handled_error, validation_details
from app.core.routing import APIRouter, UnitOfWorkRoute


def flat_error(body: dict[str, Any]) -> dict[str, Any]:
    """`{"error": {code, message, details}}` as `{message, detail, code, details}`: the
    frontend reads `message` or `detail` at the top level."""
    error = body.get("error") if isinstance(body.get("error"), dict) else None
    if error is None:
        return body
    message = error.get("message", "")
    return {
        "message": message,
        "detail": message,
        "code": error.get("code"),
        "details": error.get("details") or {},
    }


class CompatRoute(UnitOfWorkRoute):
    # The frontend sends parameters of its own (cache busters, sort keys this surface does not
    # have); /api/v1 refuses unknown parameters, this surface ignores them.
    refuse_unknown_query = False

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                response = await handler(request)
            except ValidationError as exc:
                # An adapter builds /api/v1's input from the frontend's (a webhook named after
                # its URL, a wallet link): what that input refuses is the client's 422, not a
                # 500. The request's transaction was rolled back on the way out.
                response = render_handled_error(
                    ValidationFailed(details=validation_details(exc.errors()))
                )
            if response.status_code < 400 or response.media_type != "application/json":
                return response
            flattened = flat_error(orjson.loads(bytes(response.body)))
            headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
            return Response(
                orjson.dumps(flattened),
                status_code=response.status_code,
                headers=headers,
                media_type="application/json",
            )

        return run


def compat_router(prefix: str = "", tags: list[str] | None = None) -> APIRouter:
    return APIRouter(prefix=prefix, route_class=CompatRoute, include_in_schema=False)
