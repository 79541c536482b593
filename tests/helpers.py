"""Small helpers the tests share: building apps and clients, registering and logging in."""

from __future__ import annotations

import itertools
import os
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from app.config import Settings
from app.main import create_app

PASSWORD = "Correct-Horse-42!"
PREFIX = "/api/v1"
_counter = itertools.count()


def make_settings(**overrides: Any) -> Settings:
    return Settings(**overrides)


def make_app(**overrides: Any) -> Any:
    return create_app(make_settings(**overrides), run_inline_executor=False)


def make_client(app: Any, ip: str | None = None) -> httpx.AsyncClient:
    """Each client gets an address of its own, as separate machines would: per-IP limits of one
    test do not spill into the next."""
    n = next(_counter)
    address = ip or f"127.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def unique_email(tag: str = "user") -> str:
    return f"{tag}-{next(_counter)}-{uuid.uuid4().hex[:8]}@example.com"


@dataclass
class Session:
    email: str
    access_token: str
    refresh_token: str
    user: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.headers = {"Authorization": f"Bearer {self.access_token}"}

    @property
    def organization_id(self) -> str:
        return str(self.user["organization_id"])


class Api:
    """A client that knows the prefix and how to get a logged-in user of any role."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def register(self, email: str | None = None, **extra: Any) -> dict[str, Any]:
        email = email or unique_email("owner")
        response = await self.client.post(
            f"{PREFIX}/auth/register", json={"email": email, "password": PASSWORD, **extra}
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def login(self, email: str, password: str = PASSWORD) -> Session:
        response = await self.client.post(
            f"{PREFIX}/auth/login", json={"email": email, "password": password}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        return Session(email, body["access_token"], body["refresh_token"], body["user"])

    async def owner(self) -> Session:
        user = await self.register()
        return await self.login(user["email"])

    async def member(self, owner: Session, role: str) -> Session:
        email = unique_email(role)
        response = await self.client.post(
            f"{PREFIX}/users",
            json={"email": email, "password": PASSWORD, "role": role},
            headers=owner.headers,
        )
        assert response.status_code == 201, response.text
        return await self.login(email)

    async def get(self, path: str, session: Session | None = None, **kw: Any) -> httpx.Response:
        return await self.client.get(PREFIX + path, headers=_headers(session, kw), **kw)

    async def post(self, path: str, session: Session | None = None, **kw: Any) -> httpx.Response:
        return await self.client.post(PREFIX + path, headers=_headers(session, kw), **kw)

    async def patch(self, path: str, session: Session | None = None, **kw: Any) -> httpx.Response:
        return await self.client.patch(PREFIX + path, headers=_headers(session, kw), **kw)

    async def put(self, path: str, session: Session | None = None, **kw: Any) -> httpx.Response:
        return await self.client.put(PREFIX + path, headers=_headers(session, kw), **kw)

    async def delete(self, path: str, session: Session | None = None, **kw: Any) -> httpx.Response:
        return await self.client.delete(PREFIX + path, headers=_headers(session, kw), **kw)


def _headers(session: Session | None, kw: dict[str, Any]) -> dict[str, str]:
    headers = dict(session.headers) if session else {}
    headers.update(kw.pop("headers", None) or {})
    return headers


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    error = body["error"]
    assert error["code"] == code, body
    assert set(error) >= {"code", "message", "details", "timestamp", "correlation_id"}
    assert error["correlation_id"] == response.headers["x-correlation-id"]
    return dict(error)


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in {"1", "true", "yes"}


def start_of_a_fresh_window(window_seconds: int = 300, needed: float = 10) -> None:
    """Sign-in attempts per address are counted in fixed windows aligned to the clock
    (`AUTH_IP_WINDOW_SECONDS`, 300 s; app/core/ratelimit.py): a burst that straddles a window's
    edge counts in two windows. A test of the limit starts where its burst fits in one:
    `needed` is a generous bound on the burst's length (an in-process burst takes well under a
    second), and what a test may wait here (a bigger bound waits more often, and longer)."""
    left = window_seconds - time.time() % window_seconds
    if left < needed:
        time.sleep(left + 0.5)


def sibling_database(purpose: str) -> str:
    """A database beside the suite's own, named after it (`<test db>_<purpose>`): two suites
    on one machine, each with its own TEST_DATABASE_URL, never share one."""
    from sqlalchemy.engine import make_url

    base = make_url(
        os.environ.get(
            "TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/apexchainx_test"
        )
    )
    return base.set(database=f"{base.database}_{purpose}").render_as_string(hide_password=False)
