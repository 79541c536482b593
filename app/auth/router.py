from __future__ import annotations

from typing import Annotated

from fastapi import Body, Depends, Request, Response, status

from app.auth import accounts, service
from app.auth.presenter import user_out
from app.auth.schemas import (
    LoginRequest,
    MeOut,
    OrganizationOut,
    PasswordChange,
    PasswordResetRequest,
    RefreshRequest,
    RegisterRequest,
    TokenPair,
    UserOut,
)
from app.config import Settings
from app.core.client import client_ip
from app.core.db import SessionDep
from app.core.errors import NotFound, RateLimited, Unauthorized
from app.core.ratelimit import RateLimiter
from app.core.routing import APIRouter
from app.core.schemas import Message
from app.identity.cookies import (
    REFRESH_COOKIE,
    check_cookie_request,
    clear_session_cookies,
    set_session_cookies,
)
from app.identity.dependencies import CurrentPrincipal, SettingsDep

router = APIRouter(prefix="/auth", tags=["Auth"])


async def auth_attempt_limit(request: Request, settings: SettingsDep) -> None:
    """10 login/register/refresh attempts per IP per 5 minutes, successful or not."""
    if not settings.rate_limit_enabled:
        return
    limiter: RateLimiter = request.app.state.rate_limiter
    ip = client_ip(request.scope, settings.trusted_proxies)
    decision = await limiter.hit(
        f"auth-ip:{ip}",
        settings.auth_ip_max_attempts,
        settings.auth_ip_window_seconds,
        fail_closed=True,
    )
    if not decision.allowed:
        raise RateLimited(
            "Too many authentication attempts from this address.", headers=decision.headers()
        )


AuthAttempt = Depends(auth_attempt_limit)


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    response_model=UserOut,
    dependencies=[AuthAttempt],
    summary="Register a new organization and its owner",
)
async def register(body: RegisterRequest, session: SessionDep) -> UserOut:
    """Creates an organization and its first user, who owns it. A `role` in the body is
    ignored. Password: 12..128 characters with an uppercase and a lowercase letter, a digit and
    a special character."""
    user = await service.register(session, body)
    return await user_out(session, user)


@router.post(
    "/login",
    response_model=TokenPair,
    dependencies=[AuthAttempt],
    summary="Log in and receive an access and a refresh token",
)
async def login(
    body: LoginRequest,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
) -> TokenPair:
    """Five failures lock the account for 15 minutes (429 with `Retry-After`), and five on
    one email across all its organizations lock the email. A success forgives only its own
    account's failures. An unknown email and a wrong password get the same answer and cost
    the same: one password check per attempt. With `cookies: true` the tokens are also set
    as cookies for a browser (docs/guides/browser-clients.md)."""
    pair = await service.login(session, settings, body, device_of(request, settings))
    if body.cookies:
        set_session_cookies(response, settings, pair.access_token, pair.refresh_token)
    return pair


@router.post(
    "/refresh",
    response_model=TokenPair,
    dependencies=[AuthAttempt],
    summary="Exchange a refresh token for a new pair",
)
async def refresh(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    body: Annotated[RefreshRequest | None, Body()] = None,
) -> TokenPair:
    """Each refresh token works once. Presenting a used one ends the whole session (every
    token of its family) and is recorded in the audit log. A browser may send none in the
    body: its refresh cookie is used (same site only) and both cookies are set anew."""
    secret = body.refresh_token if body is not None else None
    from_cookie = secret is None
    if from_cookie:
        secret = request.cookies.get(REFRESH_COOKIE)
        if secret is None:
            raise Unauthorized("Send `refresh_token`, or the refresh cookie set at sign-in.")
        check_cookie_request(request, settings)
    pair = await service.refresh(session, settings, secret or "", device_of(request, settings))
    if from_cookie or (body is not None and body.cookies):  # the cookies rotate with the token
        set_session_cookies(response, settings, pair.access_token, pair.refresh_token)
    return pair


def device_of(request: Request, settings: Settings) -> service.Device:
    agent = request.headers.get("user-agent")
    address = client_ip(request.scope, settings.trusted_proxies)[:64]
    return service.Device(agent[:256] if agent else None, address)


@router.post("/password", response_model=Message, summary="Change your password")
async def change_password(
    body: PasswordChange, principal: CurrentPrincipal, session: SessionDep, settings: SettingsDep
) -> Message:
    """Needs the current password (a wrong one counts towards the lockout). Every other
    session of the user ends; this one stays signed in."""
    if principal.kind != "user":
        raise NotFound("API keys have no password.")
    await accounts.change_password(
        session,
        settings,
        principal.id,
        principal.session_id,
        body.current_password,
        body.new_password,
    )
    return Message(message="Password changed. Your other sessions have ended.")


@router.post(
    "/password/reset",
    response_model=Message,
    dependencies=[AuthAttempt],
    summary="Set a new password with a reset token",
)
async def reset_password(
    body: PasswordResetRequest, session: SessionDep, settings: SettingsDep
) -> Message:
    """With the one-time token an owner or admin issued (`POST /users/{id}/password-reset`,
    or `apexchainx reset-password`). Every session of the user ends and the account's own
    lockout is lifted (a lock on the email, from failures across its organizations, expires
    by itself)."""
    await accounts.reset_with_token(session, settings, body.token, body.new_password)
    return Message(message="Password set. Log in with the new password.")


@router.post("/logout", response_model=Message, summary="End this session")
async def logout(
    principal: CurrentPrincipal, session: SessionDep, response: Response, settings: SettingsDep
) -> Message:
    """Revokes the caller's token family: its refresh tokens and access tokens stop working.
    A browser's session cookies are cleared."""
    if principal.session_id is None:
        raise NotFound("API keys have no session; revoke the key instead.")
    await service.logout(session, principal.id, principal.organization_id, principal.session_id)
    clear_session_cookies(response, settings)
    return Message(message="Logged out.")


@router.get("/me", response_model=MeOut, summary="The caller, with organization and role")
async def me(principal: CurrentPrincipal, session: SessionDep) -> MeOut:
    """The signed-in user, their role and organization."""
    if principal.kind != "user":
        raise NotFound("API keys are not users.")
    user = await service.get_user(session, principal.id)
    organization = await service.organization_of(session, principal.organization_id)
    return MeOut.model_validate(
        {
            **(await user_out(session, user)).model_dump(),
            "organization": OrganizationOut.model_validate(organization),
        }
    )
