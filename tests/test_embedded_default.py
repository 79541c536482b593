"""The embedded default (`make run`): SQLite file, inline jobs, no Redis, over real HTTP."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers import PASSWORD
from tests.live import live_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    database = Path(tmp_path_factory.mktemp("embedded")) / "apexchainx.db"
    env = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "REDIS_URL": "",
        "ENVIRONMENT": "development",
    }
    with live_server(env, migrate=True) as base:
        yield base


def test_smoke_path_on_sqlite(server: str) -> None:
    with httpx.Client(base_url=server + "/api/v1") as http:
        ready = http.get("/health/ready").json()
        assert ready["checks"] == {"database": "ok"}
        created = http.post(
            "/auth/register", json={"email": "smoke@example.com", "password": PASSWORD}
        )
        assert created.status_code == 201
        tokens = http.post(
            "/auth/login", json={"username": "smoke@example.com", "password": PASSWORD}
        ).json()
        auth = {"Authorization": f"Bearer {tokens['access_token']}"}
        me = http.get("/auth/me", headers=auth).json()
        assert me["role"] == "owner" and me["organization"]["id"].startswith("org_")
        body = {"email": "member@example.com", "password": PASSWORD, "role": "engineer"}
        key = {"Idempotency-Key": "smoke-1"}
        first = http.post("/users", json=body, headers={**auth, **key})
        second = http.post("/users", json=body, headers={**auth, **key})
        assert first.status_code == 201 and second.headers["idempotent-replayed"] == "true"
        audit = http.get("/audit", headers=auth).json()
        assert audit["results"][0]["event_type"] == "user.created"
        assert audit["results"][0]["occurred_at"].endswith("Z")
        assert http.get("/audit/verify", headers=auth).json()["valid"] is True
        refreshed = http.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert refreshed.status_code == 200
        assert http.get("/nowhere").json()["error"]["code"] == "NOT_FOUND"
