"""Who is calling, and may they? Every non-public route depends on `RequireRole(...)`.

`RequireRole` authenticates (Bearer access token, the browser's session cookie, or `X-API-Key`
where the route admits machine clients), checks the role, scopes the session to the caller's
organization (tenant isolation), and, for POST, applies the idempotency key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import Depends, Request
from sqlalchemy import update

from app.config import Settings
from app.core import crossings, idempotency, planner
from app.core.actors import Actor
from app.core.clock import utcnow
from app.core.db import SessionDep
from app.core.errors import Forbidden, Unauthorized
from app.core.tenancy import scope_session_to
from app.identity import queries
from app.identity.cookies import ACCESS_COOKIE, check_cookie_request
from app.identity.models import ApiKey
from app.identity.roles import Role
from app.identity.tokens import (
    ACCESS_CLAIMS_STATE,
    API_KEY_PREFIX,
    decode_access_token,
    hash_secret,
)


def _bearer_token(authorization: str | None) -> str | None:
    if authorization is None:
        return None
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return None
    return credentials.strip()


API_KEY_TOUCH_INTERVAL = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Principal:
    kind: Literal["user", "api_key"]
    id: str
    organization_id: str
    role: Role
    session_id: str | None = None
    email: str | None = None

    @property
    def actor(self) -> Actor:
        return Actor(self.kind, self.id)


async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


async def _user_principal(
    request: Request, session: Any, settings: Settings, token: str
) -> Principal:
    claims = request.scope.get("state", {}).get(ACCESS_CLAIMS_STATE)
    if claims is None or claims.token != token:
        claims = decode_access_token(settings, token)
    if claims is None:
        raise Unauthorized("Invalid or expired access token.")
    # The token names the organization: the lookup runs inside it, so a user of another
    # organization is simply not found.
    row = await queries.principal_row(
        session,
        claims.organization_id,
        claims.user_id,
        claims.session_id,
        planner_off=planner.declared(request),
    )
    if row is None:
        raise Unauthorized("Invalid or expired access token.")
    if (
        row.revoked_at is not None
        or row.expires_at <= utcnow()
        or not row.is_active
        or row.organization_id != claims.organization_id
    ):
        raise Unauthorized("This session has ended. Log in again.")
    return Principal(
        "user", row.id, row.organization_id, Role(row.role), claims.session_id, row.email
    )


async def _api_key_principal(session: Any, secret: str) -> Principal:
    owner = await crossings.secret_owner(
        session, "api_key", hash_secret(secret), held_by=ApiKey.key_hash
    )
    if owner is None:
        raise Unauthorized("Invalid or revoked API key.")
    await scope_session_to(session, owner.organization_id)
    key = await session.get(ApiKey, owner.id)
    if key is None or key.revoked_at is not None:
        raise Unauthorized("Invalid or revoked API key.")
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at >= API_KEY_TOUCH_INTERVAL:
        await session.execute(update(ApiKey).where(ApiKey.id == key.id).values(last_used_at=now))
    return Principal("api_key", key.id, key.organization_id, Role(key.role))


class RequireRole:
    """`Annotated[Principal, RequireRole(Role.engineer)]`: the lowest role a route admits.

    `api_key=True` lets machine clients in with `X-API-Key` (intake routes only).
    """

    authorization = True  # marker the route-walk test looks for

    def __init__(self, role: Role, *, api_key: bool = False) -> None:
        self.role = role
        self.api_key = api_key

    async def __call__(self, request: Request, session: SessionDep) -> Principal:
        # The credentials are read from the headers here rather than through FastAPI's
        # security dependencies (three fewer dependencies on every request); the OpenAPI
        # document declares them from this dependency (app/openapi.py).
        settings: Settings = request.app.state.settings
        bearer = _bearer_token(request.headers.get("authorization"))
        api_key = request.headers.get("x-api-key")
        if bearer is not None and bearer.startswith(API_KEY_PREFIX):
            # `Authorization: Bearer <API key>`, as the seed's clients send it: the prefix
            # tells a key from a JWT (which starts with `eyJ`).
            bearer, api_key = None, bearer
        if bearer is not None:
            principal = await _user_principal(request, session, settings, bearer)
        elif api_key is None and (cookie := request.cookies.get(ACCESS_COOKIE)) is not None:
            check_cookie_request(request, settings)  # a browser's cookie: same site only
            principal = await _user_principal(request, session, settings, cookie)
        elif api_key is not None and self.api_key:
            principal = await _api_key_principal(session, api_key)
        elif api_key is not None:
            raise Unauthorized("API keys are accepted on intake routes only; use a Bearer token.")
        else:
            raise Unauthorized()
        if not principal.role.admits(self.role):
            raise Forbidden(
                f"This action needs the {self.role.value} role or higher.",
                details={"required_role": self.role.value, "your_role": principal.role.value},
            )
        request.state.principal = principal
        await idempotency.guard(request, session, principal.organization_id, principal.id)
        return principal


def requires(role: Role, *, api_key: bool = False) -> Any:
    return Depends(RequireRole(role, api_key=api_key), scope="function")


CurrentPrincipal = Annotated[Principal, requires(Role.viewer)]
EngineerPrincipal = Annotated[Principal, requires(Role.engineer)]
OperatorPrincipal = Annotated[Principal, requires(Role.operator)]
AdminPrincipal = Annotated[Principal, requires(Role.admin)]
OwnerPrincipal = Annotated[Principal, requires(Role.owner)]
