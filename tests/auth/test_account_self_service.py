"""People looking after their accounts: a password change ends the other sessions; a
forgotten password is reset with a one-time token an owner or admin issued (returned once,
or mailed when SMTP_URL is set), or from the command line."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from app.core.clock import utcnow
from app.core.tenancy import system_session
from app.identity.models import PasswordReset
from app.journal.models import AuditLog
from tests.helpers import PASSWORD, PREFIX, Api, assert_error, make_app, make_client
from tests.live import free_port

pytestmark = pytest.mark.live  # starts processes (CLI, migrations, tools)

NEW_PASSWORD = "Brand-New-Horse-77!"
ROOT = Path(__file__).resolve().parents[2]


async def _login(api: Api, email: str, password: str) -> Any:
    return await api.post("/auth/login", json={"email": email, "password": password})


async def test_changing_a_password_ends_the_other_sessions_only(api: Api) -> None:
    owner = await api.owner()
    other_device = await api.login(owner.email)
    changed = await api.post(
        "/auth/password",
        owner,
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert changed.status_code == 200, changed.text
    assert (await api.get("/auth/me", owner)).status_code == 200  # this session stays
    assert (await api.get("/auth/me", other_device)).status_code == 401
    assert (await _login(api, owner.email, PASSWORD)).status_code == 401
    assert (await _login(api, owner.email, NEW_PASSWORD)).status_code == 200


async def test_a_password_change_needs_the_current_password_and_the_policy(api: Api) -> None:
    owner = await api.owner()
    wrong = await api.post(
        "/auth/password",
        owner,
        json={"current_password": "Not-It-123!x", "new_password": NEW_PASSWORD},
    )
    assert_error(wrong, 422, "VALIDATION_ERROR")
    weak = await api.post(
        "/auth/password", owner, json={"current_password": PASSWORD, "new_password": "short"}
    )
    assert_error(weak, 422, "VALIDATION_ERROR")
    assert (await _login(api, owner.email, PASSWORD)).status_code == 200


async def test_an_admin_issues_a_one_time_reset_token_shown_once_and_audited(api: Api) -> None:
    owner = await api.owner()
    engineer = await api.member(owner, "engineer")
    issued = await api.post(f"/users/{engineer.user['id']}/password-reset", owner)
    assert issued.status_code == 201, issued.text
    assert issued.headers["cache-control"] == "no-store"
    token = issued.json()["token"]
    assert issued.json()["delivery"] == "returned" and token.startswith("pwr_")
    reset = {"token": token, "new_password": NEW_PASSWORD}
    assert (await api.post("/auth/password/reset", json=reset)).status_code == 200
    assert (await api.get("/auth/me", engineer)).status_code == 401  # every session ended
    assert (await _login(api, engineer.email, NEW_PASSWORD)).status_code == 200
    again = await api.post(
        "/auth/password/reset", json={**reset, "new_password": "Another-One-88!"}
    )
    assert_error(again, 401, "UNAUTHORIZED")
    events = (await api.get("/audit", owner)).json()["results"]
    kinds = [event["event_type"] for event in events]
    assert "auth.password_reset_issued" in kinds and "auth.password_reset" in kinds
    assert all(token not in str(event["data"]) for event in events)


async def test_reset_tokens_expire_are_replaced_and_respect_roles(app: Any, api: Api) -> None:
    owner = await api.owner()
    admin = await api.member(owner, "admin")
    engineer = await api.member(owner, "engineer")
    assert_error(
        await api.post(f"/users/{owner.user['id']}/password-reset", admin), 403, "FORBIDDEN"
    )
    assert_error(
        await api.post(f"/users/{admin.user['id']}/password-reset", engineer), 403, "FORBIDDEN"
    )
    first = (await api.post(f"/users/{engineer.user['id']}/password-reset", admin)).json()
    second = (await api.post(f"/users/{engineer.user['id']}/password-reset", admin)).json()
    stale = await api.post(
        "/auth/password/reset", json={"token": first["token"], "new_password": NEW_PASSWORD}
    )
    assert_error(stale, 401, "UNAUTHORIZED")  # only the newest token works
    async with system_session(app.state.database, "test: let the token expire") as session:
        await session.execute(update(PasswordReset).values(expires_at=utcnow() - timedelta(1)))
        await session.commit()
    expired = await api.post(
        "/auth/password/reset", json={"token": second["token"], "new_password": NEW_PASSWORD}
    )
    assert_error(expired, 401, "UNAUTHORIZED")
    other = await api.owner()
    assert_error(
        await api.post(f"/users/{engineer.user['id']}/password-reset", other), 404, "NOT_FOUND"
    )


async def test_a_reset_lifts_a_lockout(app: Any, api: Api) -> None:
    owner = await api.owner()
    engineer = await api.member(owner, "engineer")
    for _ in range(5):
        async with make_client(app) as other_address:  # each attempt from another address
            await Api(other_address).post(
                "/auth/login", json={"email": engineer.email, "password": "Wrong-Pass-123!"}
            )
    assert (await _login(api, engineer.email, PASSWORD)).status_code == 429
    token = (await api.post(f"/users/{engineer.user['id']}/password-reset", owner)).json()["token"]
    await api.post("/auth/password/reset", json={"token": token, "new_password": NEW_PASSWORD})
    assert (await _login(api, engineer.email, NEW_PASSWORD)).status_code == 200


class Sink:
    """A local SMTP server that keeps what it is sent."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=default))
        return "250 OK"


@pytest.fixture
def smtp_sink() -> Iterator[tuple[Sink, int]]:
    sink, port = Sink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


async def test_with_smtp_the_token_goes_by_mail_and_is_not_shown(
    smtp_sink: tuple[Sink, int],
) -> None:
    sink, port = smtp_sink
    app = make_app(smtp_url=f"smtp://127.0.0.1:{port}")
    async with app.router.lifespan_context(app), make_client(app) as http:
        api = Api(http)
        owner = await api.owner()
        engineer = await api.member(owner, "engineer")
        issued = await api.post(f"/users/{engineer.user['id']}/password-reset", owner)
        assert issued.status_code == 201, issued.text
        assert issued.json()["token"] is None and issued.json()["delivery"] == "email"
        await asyncio.sleep(0.2)
        assert len(sink.messages) == 1 and sink.messages[0]["To"] == engineer.email
        body = sink.messages[0].get_content()
        token = next(
            word.strip('",') for word in body.split() if word.strip('"').startswith("pwr_")
        )
        reset = {"token": token, "new_password": NEW_PASSWORD}
        assert (await api.post("/auth/password/reset", json=reset)).status_code == 200


async def test_an_unreachable_smtp_server_issues_nothing() -> None:
    app = make_app(smtp_url=f"smtp://127.0.0.1:{free_port()}", smtp_timeout_seconds=1)
    async with app.router.lifespan_context(app), make_client(app) as http:
        api = Api(http)
        owner = await api.owner()
        engineer = await api.member(owner, "engineer")
        failed = await api.post(f"/users/{engineer.user['id']}/password-reset", owner)
        assert_error(failed, 503, "SERVICE_UNAVAILABLE")
        async with system_session(app.state.database, "test inspection") as session:
            assert (await session.execute(select(PasswordReset))).first() is None
            issued = await session.execute(
                select(AuditLog).where(AuditLog.event_type == "auth.password_reset_issued")
            )
            assert issued.first() is None


def test_the_command_line_issues_a_reset_token(api_free_database: None) -> None:
    env = {**os.environ}
    subprocess.run(
        [
            sys.executable,
            "-c",
            "from app.cli import main; main()",
            "create-admin",
            "cli@example.com",
        ],
        cwd=ROOT,
        env={**env, "APEXCHAINX_ADMIN_PASSWORD": PASSWORD},
        check=True,
        capture_output=True,
    )
    issued = subprocess.run(
        [
            sys.executable,
            "-c",
            "from app.cli import main; main()",
            "reset-password",
            "CLI@example.com",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    token = issued.stdout.strip().rsplit(" ", 1)[-1]
    assert token.startswith("pwr_")
    missing = subprocess.run(
        [sys.executable, "-c", "from app.cli import main; main()", "reset-password", "no@x.io"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 2 and "0 accounts" in missing.stderr
    asyncio.run(_reset_over_http(token))


async def _reset_over_http(token: str) -> None:
    app = make_app()
    async with app.router.lifespan_context(app), make_client(app) as http:
        reset = {"token": token, "new_password": NEW_PASSWORD}
        assert (await http.post(f"{PREFIX}/auth/password/reset", json=reset)).status_code == 200
        login = {"email": "cli@example.com", "password": NEW_PASSWORD}
        assert (await http.post(f"{PREFIX}/auth/login", json=login)).status_code == 200


@pytest.fixture
def api_free_database() -> None:
    """The suite's database, cleaned by the autouse fixture; nothing else to set up."""
