"""Browser sessions: the tokens as cookies, and the cross-site checks they need.

Sign-in and refresh set the access and refresh tokens as `HttpOnly; SameSite=Lax` cookies
(`Secure` outside development and test) besides the JSON body; a request with no
`Authorization` or `X-API-Key` header is authenticated by the access cookie. A cookie is sent
by the browser whoever made the page, so an unsafe request authenticated by it must come from
this service's own origin (or one of `CORS_ORIGINS`): the browser says where a request comes
from in `Sec-Fetch-Site` and `Origin`, which a page cannot forge. A client that also sends
`X-CSRF-Token` (double submit) must send the value of the `apex_csrf` cookie. Bearer clients
are untouched: a header is never sent by a browser on its own.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from fastapi import Request, Response

from app.config import Environment, Settings
from app.core.errors import Forbidden

ACCESS_COOKIE = "apex_access"
REFRESH_COOKIE = "apex_refresh"
CSRF_COOKIE = "apex_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_SAME_ORIGIN_SITES = frozenset({"same-origin", "none"})  # `none`: typed in, or a bookmark


def secure_cookies(settings: Settings) -> bool:
    return settings.environment not in (Environment.development, Environment.test)


def set_session_cookies(
    response: Response,
    settings: Settings,
    access_token: str,
    refresh_token: str,
    *,
    prefix: str | None = None,
) -> None:
    """`prefix`: the routes the cookies are sent to (default: /api/v1's)."""
    secure = secure_cookies(settings)
    prefix = prefix or settings.api_v1_prefix
    response.set_cookie(
        ACCESS_COOKIE,
        access_token,
        max_age=settings.access_token_expire_minutes * 60,
        path=prefix,
        secure=secure,
        httponly=True,
        samesite="lax",
    )
    # Only the auth routes (refresh, logout) ever need the refresh token.
    response.set_cookie(
        REFRESH_COOKIE,
        refresh_token,
        max_age=settings.refresh_token_expire_days * 86_400,
        path=f"{prefix}/auth",
        secure=secure,
        httponly=True,
        samesite="lax",
    )
    # Readable by the page, for clients that double-submit it as X-CSRF-Token.
    response.set_cookie(
        CSRF_COOKIE,
        secrets.token_urlsafe(32),
        max_age=settings.refresh_token_expire_days * 86_400,
        path="/",
        secure=secure,
        httponly=False,
        samesite="lax",
    )


def clear_session_cookies(
    response: Response, settings: Settings, *, prefix: str | None = None
) -> None:
    secure = secure_cookies(settings)
    prefix = prefix or settings.api_v1_prefix
    for name, path in (
        (ACCESS_COOKIE, prefix),
        (REFRESH_COOKIE, f"{prefix}/auth"),
        (CSRF_COOKIE, "/"),
    ):
        response.delete_cookie(name, path=path, secure=secure, httponly=name != CSRF_COOKIE)


def check_cookie_request(request: Request, settings: Settings) -> None:
    """Refuses (403) an unsafe request carried by a session cookie that a browser says comes
    from another site, or whose double-submitted token does not match."""
    if request.method in SAFE_METHODS:
        return
    if not _from_this_site(request, settings):
        raise Forbidden(
            "A session cookie was sent with a request from another site; it is refused.",
            details={"reason": "cross_site_request"},
        )
    submitted = request.headers.get(CSRF_HEADER)
    if submitted is not None and not secrets.compare_digest(
        submitted, request.cookies.get(CSRF_COOKIE, "")
    ):
        raise Forbidden(
            "X-CSRF-Token does not match the apex_csrf cookie.",
            details={"reason": "csrf_token_mismatch"},
        )


def _from_this_site(request: Request, settings: Settings) -> bool:
    origin = request.headers.get("origin")
    if origin is not None and origin in settings.cors_origins:
        return True
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site in _SAME_ORIGIN_SITES
    if origin is None or origin == "null":
        # No browser sends an unsafe cross-site request without Origin; "null" is an opaque
        # origin (a sandboxed frame, a data: page): not this site.
        return origin is None
    return urlsplit(origin).netloc == request.headers.get("host", "")
