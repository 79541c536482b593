"""A browser's session, in headless Chromium (issue 26): it signs in with cookies, reads a
protected route with no Authorization header, refreshes, keeps the session event stream open,
and hears within seconds that another session of the same person logged out everywhere."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, sync_playwright

from tests import templates
from tests.live import live_server

pytestmark = [pytest.mark.live, pytest.mark.browser]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
EMAIL = "browser@example.com"
PASSWORD = "Correct-Horse-42!"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    env = {
        "DATABASE_URL": templates.copy_sqlite(tmp_path_factory.mktemp("browser")),
        "REDIS_URL": "",
        "ENVIRONMENT": "development",
        "RATE_LIMIT_ENABLED": "false",
    }
    with live_server(env) as base:
        yield base


def _fetch(page: Page, method: str, path: str, body: Any = None) -> dict[str, Any]:
    """A same-origin fetch from the page, as its own scripts would make it."""
    return dict(
        page.evaluate(
            """async ([method, path, body]) => {
                const init = {method, credentials: "same-origin", headers: {}};
                if (body !== null) {
                    init.headers["Content-Type"] = "application/json";
                    init.body = JSON.stringify(body);
                }
                const r = await fetch("/api/v1" + path, init);
                return {status: r.status, body: await r.text()};
            }""",
            [method, path, body],
        )
    )


def test_a_browser_signs_in_with_cookies_and_hears_logout_everywhere(server: str) -> None:
    assert CHROMIUM, "Chromium is needed: `make chromium` (tools/install-chromium.sh) installs it"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_context().new_page()
            page.goto(server + "/docs")  # a page of the site (its CSP allows connect-src self)
            registered = _fetch(
                page, "POST", "/auth/register", {"email": EMAIL, "password": PASSWORD}
            )
            assert registered["status"] == 201, registered
            login = _fetch(
                page, "POST", "/auth/login", {"email": EMAIL, "password": PASSWORD, "cookies": True}
            )
            assert login["status"] == 200, login
            # The tokens are out of the page's reach; the double-submit token is readable.
            cookies = page.evaluate("() => document.cookie")
            assert "apex_csrf=" in cookies and "apex_access" not in cookies

            assert _fetch(page, "GET", "/auth/me", None)["status"] == 200
            created = _fetch(page, "POST", "/outages", {"site_name": "Alpha", "severity": "low"})
            assert created["status"] == 201, created
            assert _fetch(page, "POST", "/auth/refresh", None)["status"] == 200
            assert _fetch(page, "GET", "/auth/me", None)["status"] == 200

            page.evaluate(
                """() => {
                    window.sessionEvents = [];
                    const source = new EventSource("/api/v1/auth/events");
                    for (const name of ["ready", "session_revoked", "heartbeat"]) {
                        source.addEventListener(name, (e) => {
                            window.sessionEvents.push({name, data: JSON.parse(e.data)});
                            if (name === "session_revoked") source.close();
                        });
                    }
                }"""
            )
            page.wait_for_function(
                "() => window.sessionEvents.some(e => e.name === 'ready')", timeout=15_000
            )

            elsewhere = browser.new_context().new_page()  # another device of the same person
            elsewhere.goto(server + "/docs")
            signed_in = _fetch(
                elsewhere,
                "POST",
                "/auth/login",
                {"email": EMAIL, "password": PASSWORD, "cookies": True},
            )
            assert signed_in["status"] == 200
            assert _fetch(elsewhere, "POST", "/auth/logout-all", None)["status"] == 200

            page.wait_for_function(
                "() => window.sessionEvents.some(e => e.name === 'session_revoked')", timeout=15_000
            )
            revoked = page.evaluate(
                "() => window.sessionEvents.find(e => e.name === 'session_revoked').data"
            )
            assert revoked == {"reason": "logout_all"}
            assert _fetch(page, "GET", "/auth/me", None)["status"] == 401
        finally:
            browser.close()
