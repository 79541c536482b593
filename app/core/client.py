"""The client's address, for per-IP limits."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import Scope


def client_ip(scope: Scope, *, trust_forwarded_for: bool) -> str:
    if trust_forwarded_for:
        # The rightmost entry is the one our proxy appended; everything left of it is what
        # the client claimed and may be forged.
        forwarded = Headers(scope=scope).get("x-forwarded-for")
        if forwarded:
            return forwarded.split(",")[-1].strip()[:64]
    client = scope.get("client")
    return str(client[0]) if client else "unknown"
