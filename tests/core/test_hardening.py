"""Hardening at the edge: a login flood cannot starve the pool, one rule for the client
address, a Redis that hangs costs nothing once its breaker opens, the headers every response
carries, and the small holes a hostile user found."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from stellar_sdk import Keypair

from app.webhooks.ssrf import TargetRefused, resolve
from tests.helpers import (
    PASSWORD,
    PREFIX,
    Api,
    assert_error,
    make_app,
    make_client,
    start_of_a_fresh_window,
)
from tests.live import free_port
from tests.outages.conftest import new_outage

pytestmark = pytest.mark.live

ROOT = Path(__file__).resolve().parents[2]
BAD = {"email": "nobody@example.com", "password": "Wrong-Pass-123!"}


# --- a login flood --------------------------------------------------------------------------


async def test_a_login_flood_holds_no_connection_while_hashing() -> None:
    """One pooled connection, twelve concurrent bad logins from twelve addresses and a reader:
    nobody waits for a connection (no 503), every login is counted."""
    app = make_app(database_pool_size=1, database_max_overflow=0)
    async with app.router.lifespan_context(app), make_client(app) as http:
        api = Api(http)
        owner = await api.owner()

        async def bad_login(n: int) -> int:
            async with make_client(app, ip=f"198.51.100.{n}") as client:
                body = {**BAD, "email": f"flood-{n}@example.com"}
                return (await client.post(f"{PREFIX}/auth/login", json=body)).status_code

        logins, listing = await asyncio.gather(
            asyncio.gather(*(bad_login(n) for n in range(12))), api.get("/outages", owner)
        )
    assert list(logins) == [401] * 12
    assert listing.status_code == 200


async def test_a_locked_account_keeps_its_sessions(app: Any, api: Api) -> None:
    owner = await api.owner()
    for n in range(5):
        async with make_client(app, ip=f"198.51.100.{n}") as client:
            await client.post(f"{PREFIX}/auth/login", json={**BAD, "email": owner.email})
    assert (
        await api.post("/auth/login", json={"email": owner.email, "password": PASSWORD})
    ).status_code == 429
    refreshed = await api.post("/auth/refresh", json={"refresh_token": owner.refresh_token})
    assert refreshed.status_code == 200, refreshed.text


# --- one rule for the client address --------------------------------------------------------


@pytest.fixture
def make_run_server(tmp_path: Path) -> Iterator[str]:
    """The server exactly as `make run` starts it (its command line, from `make -n`)."""
    port = free_port()
    database = f"sqlite+aiosqlite:///{tmp_path / 'run.db'}"
    plan = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "-n",
            "run",
            "HOST=127.0.0.1",
            f"PORT={port}",
            f"RUN_DATABASE_URL={database}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    command = next(line for line in plan.stdout.splitlines() if "apexchainx serve" in line)
    env = {
        "PATH": f"{ROOT / '.venv' / 'bin'}:/usr/bin:/bin",
        "REDIS_URL": "",
        "HOME": str(tmp_path),
    }
    server = subprocess.Popen(
        command,
        shell=True,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        start_new_session=True,  # the shell and the server it starts, stopped together
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/health/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise AssertionError("make run did not start")
        yield base
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def test_the_sign_in_throttle_holds_against_a_rotating_forwarded_for(make_run_server: str) -> None:
    start_of_a_fresh_window(needed=30)  # twelve sign-ins at production hashing cost, over HTTP
    statuses = []
    with httpx.Client(base_url=make_run_server + PREFIX) as http:
        for n in range(12):  # another email each time: the per-account lockout is not the subject
            spoofed = {"X-Forwarded-For": f"203.0.113.{n}"}
            body = {**BAD, "email": f"rotating-{n}@example.com"}
            statuses.append(http.post("/auth/login", json=body, headers=spoofed).status_code)
    assert statuses[:10] == [401] * 10 and statuses[10:] == [429, 429]


# --- a Redis that accepts and never answers -------------------------------------------------


class Silent:
    """A TCP server that accepts connections and reads, and never answers."""

    def __init__(self) -> None:
        self.bytes_received = 0
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            threading.Thread(target=self._swallow, args=(connection,), daemon=True).start()

    def _swallow(self, connection: socket.socket) -> None:
        while chunk := connection.recv(4096):
            self.bytes_received += len(chunk)


async def test_a_hanging_redis_opens_the_breaker_and_limits_fail_as_chosen() -> None:
    silent = Silent()
    app = make_app(
        redis_url=f"redis://127.0.0.1:{silent.port}/0",
        redis_timeout_seconds=0.2,
        redis_breaker_failures=2,
        redis_breaker_open_seconds=60,
    )
    async with app.router.lifespan_context(app), make_client(app) as http:
        for _ in range(3):  # the first calls time out, then the breaker opens
            await http.get(f"{PREFIX}/outages")
        asked = silent.bytes_received
        answers = [await http.get(f"{PREFIX}/outages") for _ in range(5)]
        assert silent.bytes_received == asked, "Redis is not called while the breaker is open"
        assert all(a.headers["x-ratelimit-status"] == "unavailable" for a in answers)
        assert all("x-ratelimit-remaining" not in a.headers for a in answers)
        start_of_a_fresh_window()
        logins = [
            (await http.post(f"{PREFIX}/auth/login", json=BAD)).status_code for _ in range(11)
        ]
        assert logins[-1] == 429, "sign-in attempts fail closed to the in-process limiter"
        ready = await http.get("/health/ready")
        assert ready.status_code == 503 and ready.json()["rate_limits"].startswith("degraded")
        metrics = (await http.get("/metrics")).text
        assert "apexchainx_rate_limiter_degraded 1.0" in metrics
    silent.socket.close()


# --- headers --------------------------------------------------------------------------------


async def test_every_response_carries_the_security_headers(api: Api) -> None:
    owner = await api.owner()
    for response in (await api.get("/outages", owner), await api.get("/nowhere")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert "strict-transport-security" not in response.headers
    login = await api.post("/auth/login", json={"email": owner.email, "password": PASSWORD})
    refreshed = await api.post("/auth/refresh", json={"refresh_token": owner.refresh_token})
    for response in (login, refreshed):
        assert response.headers["cache-control"] == "no-store"


async def test_the_docs_pages_have_a_policy_that_admits_their_own_script(client: Any) -> None:
    for path in ("/docs", "/redoc"):
        page = await client.get(path)
        policy = page.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
        nonce = re.search(r"'nonce-([^']+)'", policy)
        assert nonce is not None
        inline = re.findall(r"<script(?![^>]*src)([^>]*)>", page.text)
        assert all(f'nonce="{nonce.group(1)}"' in attributes for attributes in inline)


async def test_production_answers_with_hsts() -> None:
    app = make_app(
        environment="production",
        secret_key="s" * 40,
        stellar_network="testnet",
        stellar_pool_secret=Keypair.random().secret,
        metrics_token="m" * 32,
    )
    async with make_client(app) as http:
        response = await http.get("/health/live")
    assert response.headers["strict-transport-security"].startswith("max-age=")


# --- the small holes ------------------------------------------------------------------------


async def test_adding_a_user_does_not_tell_whether_the_email_is_used_elsewhere(api: Api) -> None:
    mine, theirs = await api.owner(), await api.owner()
    body = {"email": theirs.email, "password": "Their-Other-Pass-9!", "role": "viewer"}
    added = await api.post("/users", mine, json=body)
    assert added.status_code == 201, added.text
    assert_error(await api.post("/users", mine, json=body), 409, "CONFLICT")  # own members only
    # The person now has two accounts; each password opens its own, and the organization
    # can be named.
    own = await api.post("/auth/login", json={"email": theirs.email, "password": PASSWORD})
    assert own.json()["user"]["organization_id"] == theirs.organization_id
    other = await api.post(
        "/auth/login",
        json={
            "email": theirs.email,
            "password": body["password"],
            "organization_id": mine.organization_id,
        },
    )
    assert other.json()["user"]["organization_id"] == mine.organization_id


async def test_a_csv_field_over_the_csv_limit_is_422(api: Api) -> None:
    owner = await api.owner()
    huge = "site_name,severity,description\nA,low," + "x" * 140_000 + "\n"
    files = {"file": ("o.csv", huge.encode(), "text/csv")}
    assert_error(await api.post("/outages/import", owner, files=files), 422, "VALIDATION_ERROR")


async def test_link_local_targets_are_refused_even_when_private_ones_are_allowed() -> None:
    for url in ("http://169.254.169.254/latest/meta-data", "http://[fe80::1]/", "http://0.0.0.0/"):
        with pytest.raises(TargetRefused):
            await resolve(url, https_only=False, allow_private=True)
    target = await resolve("http://127.0.0.1:9/hook", https_only=False, allow_private=True)
    assert str(target.address) == "127.0.0.1"


async def test_the_command_line_export_is_safe_to_open_in_a_spreadsheet(api: Api) -> None:
    owner = await api.owner()
    await new_outage(api, owner, site_name='=HYPERLINK("http://evil.example","x")')
    exported = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", "from app.cli import main; main()", "export", owner.organization_id],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "'=HYPERLINK" in exported.stdout and ",=HYPERLINK" not in exported.stdout
