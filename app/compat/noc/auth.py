"""Sign-in for the NOC frontend: the tokens also as cookies it can read, `owner` as `admin`,
its preferences and session routes by their names."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from typing import Annotated, Any

from fastapi import Body, Request, Response
from fastapi.responses import StreamingResponse

from app.auth import router as v1
from app.auth import sessions
from app.auth.schemas import LoginRequest, RefreshRequest
from app.compat.noc import shapes
from app.compat.noc.routing import compat_router
from app.compat.noc.shapes import ROLE_NAMES
from app.config import Settings
from app.core.db import SessionDep
from app.core.errors import Unauthorized
from app.identity.cookies import check_cookie_request, secure_cookies, set_session_cookies
from app.identity.dependencies import CurrentPrincipal, SettingsDep
from app.preferences import router as preferences
from app.preferences.schemas import Preferences

router = compat_router()

ACCESS = "noc_access_token"
REFRESH = "noc_refresh_token"


def _set_cookies(
    request: Request, response: Response, settings: Settings, access: str, refresh: str
) -> None:
    """The frontend reads these two to build its `Authorization` header, so they cannot be
    HttpOnly (an XSS on its origin can read them: the cost of this surface, record 0024). The
    HttpOnly session cookies of /api/v1 are set too, for its calls that send no header."""
    secure = secure_cookies(settings)
    for name, value, max_age in (
        (ACCESS, access, settings.access_token_expire_minutes * 60),
        (REFRESH, refresh, settings.refresh_token_expire_days * 86_400),
    ):
        response.set_cookie(
            name, value, max_age=max_age, path="/", secure=secure, httponly=False, samesite="lax"
        )
    set_session_cookies(
        response, settings, access, refresh, prefix=request.app.state.settings.compat_noc_prefix
    )


def _user(body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "role": ROLE_NAMES.get(body["role"], body["role"])}


@router.post("/auth/login", dependencies=[v1.AuthAttempt])
async def login(
    body: LoginRequest,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    pair = await v1.login(body, request, response, session, settings)
    _set_cookies(request, response, settings, pair.access_token, pair.refresh_token)
    answer = pair.model_dump(mode="json")
    return {**answer, "user": _user(answer["user"])}


@router.post("/auth/refresh", dependencies=[v1.AuthAttempt])
async def refresh(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    body: Annotated[RefreshRequest | None, Body()] = None,
) -> dict[str, Any]:
    """The refresh token from the body, else from the `noc_refresh_token` cookie."""
    if body is None or body.refresh_token is None:
        cookie = request.cookies.get(REFRESH)
        if cookie is None:
            raise Unauthorized("Send `refresh_token`, or the noc_refresh_token cookie.")
        check_cookie_request(request, settings)  # a cookie is sent whoever made the page
        body = RefreshRequest(refresh_token=cookie)
    pair = await v1.refresh(request, response, session, settings, body)
    _set_cookies(request, response, settings, pair.access_token, pair.refresh_token)
    answer = pair.model_dump(mode="json")
    return {**answer, "user": _user(answer["user"])}


@router.post("/auth/logout")
async def logout(
    request: Request,
    principal: CurrentPrincipal,
    session: SessionDep,
    response: Response,
    settings: SettingsDep,
) -> dict[str, Any]:
    answer = await v1.logout(principal, session, response, settings)
    for name in (ACCESS, REFRESH):
        response.delete_cookie(name, path="/", secure=secure_cookies(settings))
    return answer.model_dump()


@router.post("/auth/logout-all")
async def logout_all(
    principal: CurrentPrincipal, session: SessionDep, response: Response, settings: SettingsDep
) -> dict[str, Any]:
    return (await sessions.logout_all(principal, session, response, settings)).model_dump()


@router.get("/auth/me")
async def me(principal: CurrentPrincipal, session: SessionDep) -> dict[str, Any]:
    return _user((await v1.me(principal, session)).model_dump(mode="json"))


@router.get("/auth/events")
async def events(
    request: Request, principal: CurrentPrincipal, settings: SettingsDep
) -> StreamingResponse:
    """/api/v1's stream, its roles named the frontend's way (`ready`, `role_changed`)."""
    stream = await sessions.session_events(principal, request, settings)
    stream.body_iterator = _renamed_roles(stream.body_iterator)
    return stream


async def _renamed_roles(events: AsyncIterable[Any]) -> AsyncIterator[bytes]:
    async for chunk in events:
        message = chunk if isinstance(chunk, bytes) else str(chunk).encode()
        yield shapes.event_roles_renamed(message)


@router.get("/user/preferences")
async def get_preferences(principal: CurrentPrincipal, session: SessionDep) -> dict[str, Any]:
    """The web app's own settings (`ui` of /api/v1's preferences): `{}` when none."""
    return (await preferences.get_preferences(principal, session)).ui


@router.put("/user/preferences")
async def put_preferences(
    body: Annotated[dict[str, Any], Body()], principal: CurrentPrincipal, session: SessionDep
) -> dict[str, Any]:
    """Replaces the web app's settings; the other preferences are kept."""
    current = await preferences.get_preferences(principal, session)
    document = Preferences.model_validate({**current.model_dump(), "ui": body})
    return (await preferences.put_preferences(document, principal, session)).ui
