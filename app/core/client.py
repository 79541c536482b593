"""The client's address, for per-IP limits."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import Scope


def client_ip(scope: Scope, *, trust_forwarded_for: bool) -> str:
    if trust_forwarded_for:
        forwarded = Headers(scope=scope).get("x-forwarded-for")
        if forwarded:
            return forwarded.split(",")[0].strip()[:64]
    client = scope.get("client")
    return str(client[0]) if client else "unknown"
