"""Who a request counts against for rate limiting, from its credentials.

A Bearer token is checked cryptographically (no database). An API key is looked up once and
the answer cached for a minute: only a real, unrevoked key gets a bucket of its own, however it
is presented (`X-API-Key`, or `Authorization: Bearer acx_…`); anything else counts against the
caller's IP, so random keys cannot mint fresh buckets.
"""

from __future__ import annotations

import time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.types import Scope

from app.config import Settings
from app.core import crossings
from app.core.db import Database
from app.core.tenancy import scope_session_to
from app.identity.cookies import ACCESS_COOKIE
from app.identity.models import ApiKey
from app.identity.tokens import (
    ACCESS_CLAIMS_STATE,
    API_KEY_PREFIX,
    decode_access_token,
    hash_secret,
)

CACHE_SECONDS = 60.0
CACHE_MAX = 10_000


class RateLimitIdentity:
    def __init__(self, settings: Settings, database_getter: object) -> None:
        self.settings = settings
        self.database_getter = database_getter
        self._keys: dict[str, tuple[float, bool]] = {}

    async def __call__(self, scope: Scope) -> str | None:
        headers = Headers(scope=scope)
        authorization = headers.get("authorization")
        api_key = headers.get("x-api-key")
        if authorization and authorization[:7].lower() == "bearer ":
            token = authorization[7:].strip()
            if token.startswith(API_KEY_PREFIX):  # a key presented as Bearer: the same key
                api_key = token
            elif (claims := decode_access_token(self.settings, token)) is not None:
                scope.setdefault("state", {})[ACCESS_CLAIMS_STATE] = claims
                return f"usr:{claims.user_id}"
        elif (
            not authorization
            and not api_key
            and (cookie := _access_cookie(headers))
            and (claims := decode_access_token(self.settings, cookie)) is not None
        ):
            scope.setdefault("state", {})[ACCESS_CLAIMS_STATE] = claims
            return f"usr:{claims.user_id}"
        if api_key and len(api_key) <= 256:
            key_hash = hash_secret(api_key)
            if await self._known_key(key_hash):
                return f"key:{key_hash[:24]}"
        return None

    async def _known_key(self, key_hash: str) -> bool:
        # Cached for a minute; a database that cannot answer raises (503 at the edge).
        now = time.monotonic()
        cached = self._keys.get(key_hash)
        if cached is not None and cached[0] > now:
            return cached[1]
        database: Database = self.database_getter()  # type: ignore[operator]
        async with database.sessionmaker() as session:
            owner = await crossings.secret_owner(
                session, "api_key", key_hash, held_by=ApiKey.key_hash
            )
            valid = owner is not None and await _unrevoked(session, owner)
        if len(self._keys) >= CACHE_MAX:
            self._keys.clear()
        self._keys[key_hash] = (now + CACHE_SECONDS, valid)
        return valid


def _access_cookie(headers: Headers) -> str | None:
    raw = headers.get("cookie")
    if not raw or ACCESS_COOKIE not in raw:
        return None
    return cookie_parser(raw).get(ACCESS_COOKIE)


async def _unrevoked(session: AsyncSession, owner: crossings.Owner) -> bool:
    await scope_session_to(session, owner.organization_id)
    revoked_at = (
        await session.execute(select(ApiKey.revoked_at).where(ApiKey.id == owner.id))
    ).first()
    return revoked_at is not None and revoked_at[0] is None
