"""Browser sessions by cookie (issue 26 A.1): sign-in sets the tokens as cookies on request,
every route accepts the access cookie, refresh rotates both, logout clears them; an unsafe
request carried by the cookie from another site is refused, a Bearer client is untouched."""

from __future__ import annotations

from typing import Any

import httpx

from tests.helpers import PASSWORD, PREFIX, Api, assert_error, make_app, make_client

UNSAFE = {"site_name": "Cell Tower Alpha", "severity": "low"}


async def _browser(api: Api) -> tuple[httpx.AsyncClient, dict[str, Any]]:
    """A signed-in browser: a cookie jar, nothing else."""
    user = await api.register()
    login = await api.client.post(
        f"{PREFIX}/auth/login", json={"email": user["email"], "password": PASSWORD, "cookies": True}
    )
    assert login.status_code == 200, login.text
    return api.client, login


def _set_cookies(response: httpx.Response) -> dict[str, str]:
    return {header.split("=", 1)[0]: header for header in response.headers.get_list("set-cookie")}


async def test_sign_in_sets_session_cookies_only_when_asked(api: Api) -> None:
    user = await api.register()
    plain = await api.client.post(
        f"{PREFIX}/auth/login", json={"email": user["email"], "password": PASSWORD}
    )
    assert plain.status_code == 200 and "set-cookie" not in plain.headers
    _, login = await _browser(api)
    cookies = _set_cookies(login)
    assert set(cookies) == {"apex_access", "apex_refresh", "apex_csrf"}
    access = cookies["apex_access"].lower()
    assert "httponly" in access and "samesite=lax" in access and "path=/api/v1" in access
    assert "secure" not in access  # the test environment is served over plain HTTP
    assert "path=/api/v1/auth" in cookies["apex_refresh"].lower()
    assert "httponly" not in cookies["apex_csrf"].lower()  # the page reads it to double-submit
    assert login.json()["access_token"]  # the body is unchanged


async def test_the_cookie_authenticates_reads_and_same_site_writes(api: Api) -> None:
    browser, _ = await _browser(api)
    me = await browser.get(f"{PREFIX}/auth/me")
    assert me.status_code == 200, me.text
    same_site = {"Sec-Fetch-Site": "same-origin", "Origin": "http://testserver"}
    created = await browser.post(f"{PREFIX}/outages", json=UNSAFE, headers=same_site)
    assert created.status_code == 201, created.text
    legacy = await browser.post(
        f"{PREFIX}/outages", json=UNSAFE, headers={"Origin": "http://testserver"}
    )
    assert legacy.status_code == 201, legacy.text  # a browser without Fetch Metadata
    token = browser.cookies.get("apex_csrf")
    doubled = await browser.post(
        f"{PREFIX}/outages", json=UNSAFE, headers={**same_site, "X-CSRF-Token": token or ""}
    )
    assert doubled.status_code == 201, doubled.text


async def test_cross_site_writes_with_the_cookie_are_refused_and_change_nothing(
    api: Api,
) -> None:
    browser, _ = await _browser(api)
    for headers in (
        {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "same-site", "Origin": "https://sub.testserver"},
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "same-origin", "X-CSRF-Token": "not-the-cookie"},
    ):
        refused = await browser.post(f"{PREFIX}/outages", json=UNSAFE, headers=headers)
        assert_error(refused, 403, "FORBIDDEN")
    assert (await browser.get(f"{PREFIX}/outages")).json()["total"] == 0
    # A cross-site read is harmless to the data (and SameSite=Lax keeps the cookie off
    # cross-site subrequests in a real browser): reads are not refused.
    read = await browser.get(f"{PREFIX}/outages", headers={"Sec-Fetch-Site": "cross-site"})
    assert read.status_code == 200


async def test_a_bearer_client_is_untouched_by_the_checks(api: Api) -> None:
    owner = await api.owner()
    created = await api.post(
        "/outages", owner, json=UNSAFE, headers={"Origin": "https://evil.example"}
    )
    assert created.status_code == 201  # a header is never sent by a browser on its own


async def test_refresh_rotates_both_cookies_and_a_reused_one_ends_the_session(
    api: Api,
) -> None:
    browser, _ = await _browser(api)
    first_refresh = browser.cookies.get("apex_refresh", path="/api/v1/auth")
    rotated = await browser.post(
        f"{PREFIX}/auth/refresh", headers={"Sec-Fetch-Site": "same-origin"}
    )
    assert rotated.status_code == 200, rotated.text
    assert set(_set_cookies(rotated)) == {"apex_access", "apex_refresh", "apex_csrf"}
    assert browser.cookies.get("apex_refresh", path="/api/v1/auth") != first_refresh
    assert (await browser.get(f"{PREFIX}/auth/me")).status_code == 200
    # The spent token presented again (a stolen copy): the whole session ends.
    reused = await browser.post(f"{PREFIX}/auth/refresh", json={"refresh_token": first_refresh})
    assert reused.status_code == 401
    assert (await browser.get(f"{PREFIX}/auth/me")).status_code == 401
    cross = await browser.post(f"{PREFIX}/auth/refresh", headers={"Sec-Fetch-Site": "cross-site"})
    assert cross.status_code in (401, 403)


async def test_logout_clears_the_cookies(api: Api) -> None:
    browser, _ = await _browser(api)
    out = await browser.post(f"{PREFIX}/auth/logout", headers={"Sec-Fetch-Site": "same-origin"})
    assert out.status_code == 200, out.text
    cleared = _set_cookies(out)
    assert set(cleared) == {"apex_access", "apex_refresh", "apex_csrf"}
    assert all("max-age=0" in header.lower() for header in cleared.values())
    assert (await browser.get(f"{PREFIX}/auth/me")).status_code == 401


async def test_cookies_are_secure_in_production_like_settings() -> None:
    from fastapi import Response

    from app.config import Environment
    from app.identity.cookies import set_session_cookies
    from tests.helpers import make_settings

    production = make_settings().model_copy(update={"environment": Environment.production})
    response = Response()
    set_session_cookies(response, production, "a", "r")
    assert all("secure" in h.lower() for h in response.headers.getlist("set-cookie"))


async def test_cors_is_off_by_default_and_an_allowlist_with_credentials() -> None:
    preflight = {
        "Origin": "https://app.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-csrf-token",
    }
    default = make_app()
    async with default.router.lifespan_context(default), make_client(default) as http:
        answer = await http.options(f"{PREFIX}/outages", headers=preflight)
        assert "access-control-allow-origin" not in answer.headers
    allowed = make_app(cors_origins=["https://app.example"])
    async with allowed.router.lifespan_context(allowed), make_client(allowed) as http:
        answer = await http.options(f"{PREFIX}/outages", headers=preflight)
        assert answer.status_code == 200
        assert answer.headers["access-control-allow-origin"] == "https://app.example"
        assert answer.headers["access-control-allow-credentials"] == "true"
        other = await http.options(
            f"{PREFIX}/outages", headers={**preflight, "Origin": "https://evil.example"}
        )
        assert other.headers.get("access-control-allow-origin") != "https://evil.example"
        read = await http.get(f"{PREFIX}/health", headers={"Origin": "https://app.example"})
        assert read.headers["access-control-expose-headers"]
