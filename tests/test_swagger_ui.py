"""Swagger UI in headless Chromium (Debian's package), offline: the operations render, the
Authorize button offers the Bearer scheme, and "Try it out" on GET /health succeeds."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Route, sync_playwright

from tests import templates
from tests.live import live_server

pytestmark = [pytest.mark.live, pytest.mark.browser]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    env = {
        "DATABASE_URL": templates.copy_sqlite(tmp_path_factory.mktemp("swagger")),
        "REDIS_URL": "",
        "ENVIRONMENT": "development",
    }
    with live_server(env) as base:
        yield base


def test_docs_render_offline_and_try_it_out_works(server: str) -> None:
    assert CHROMIUM, "Chromium is needed: `make chromium` (tools/install-chromium.sh) installs it"
    outside: list[str] = []

    def offline(route: Route) -> None:
        if route.request.url.startswith(server):
            route.continue_()
        else:  # anything from the internet would fail here: the page must not need it
            outside.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            # A page tall enough for every operation: past a certain number of operations,
            # Swagger UI renders only those near the viewport (the rest as one scrolls).
            page = browser.new_page(viewport={"width": 1280, "height": 40_000})
            page.route("**/*", offline)
            page.goto(server + "/docs")
            page.wait_for_selector(".opblock", timeout=30_000)
            assert page.locator(".opblock").count() >= 80
            assert page.locator(".opblock-summary-path[data-path='/api/v1/outages']").count() >= 2

            page.click(".btn.authorize")
            dialog = page.locator(".dialog-ux")
            dialog.wait_for()
            assert "bearer" in dialog.inner_text().lower()
            bearer = dialog.locator("form").filter(has_text="HTTPBearer")
            bearer.locator("input").first.fill("not-a-real-token")
            bearer.locator(".btn.modal-btn.auth.authorize").click()
            assert "Logout" in bearer.inner_text()  # the token is set for the requests
            dialog.locator(".btn-done").first.click()

            health = page.locator(".opblock-summary-path[data-path='/health']").first
            health.click()
            block = page.locator(".opblock.is-open").first
            block.locator(".try-out__btn").click()
            block.locator(".execute").click()
            status = block.locator(".live-responses-table tbody .response-col_status").first
            status.wait_for(timeout=15_000)
            assert status.inner_text().strip().startswith("200")
        finally:
            browser.close()
    assert outside == []
