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


def test_outage_life_and_analytics_on_sqlite(server: str) -> None:
    with httpx.Client(base_url=server + "/api/v1") as http:
        http.post("/auth/register", json={"email": "ops@example.com", "password": PASSWORD})
        login = http.post("/auth/login", json={"email": "ops@example.com", "password": PASSWORD})
        auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
        created = http.post(
            "/outages",
            headers=auth,
            json={
                "site_name": "Lagos Core",
                "severity": "critical",
                "region": "west",
                "services_affected": ["4G", "5G"],
                "description": "Fiber cut at the river",
            },
        )
        assert created.status_code == 201, created.text
        outage_id = created.json()["id"]
        found = http.get("/outages/search", headers=auth, params={"q": "FIBER river"}).json()
        assert [o["id"] for o in found["results"]] == [outage_id]
        imported = http.post(
            "/outages/import",
            headers=auth,
            json={
                "outages": [
                    {"site_name": "Abuja Edge", "severity": "low", "services_affected": ["fiber"]}
                ]
            },
        )
        assert imported.status_code == 201
        resolved = http.post(
            f"/outages/{outage_id}/resolve", headers=auth, json={"mttr_minutes": 25}
        ).json()
        assert resolved["sla_result"]["amount"] == 1000.0
        summary = http.get("/sla/analytics/summary", headers=auth).json()
        assert summary["total_penalties"] == 1000.0 and summary["outages_evaluated"] == 1
        services = http.get(
            "/sla/performance/aggregation", headers=auth, params={"group_by": "service"}
        ).json()["groups"]
        assert sorted(g["group"] for g in services) == ["4G", "5G"]
        window = http.get(
            "/sla/analytics/window", headers=auth, params={"granularity": "week"}
        ).json()
        assert sum(b["outages_evaluated"] for b in window["buckets"]) == 1
        mttr = http.get("/analytics/mttr", headers=auth, params={"group_by": "day"}).json()
        assert mttr["overall"]["median_mttr_minutes"] == 25.0
        snapshot = http.get("/sla/snapshots", headers=auth).json()
        assert [o["site_name"] for o in snapshot["open_outages"]] == ["Abuja Edge"]
        export = http.get("/sla/export", headers=auth, params={"format": "csv"})
        assert export.text.count("\n") == 2
        dispute = http.post(
            "/sla/disputes",
            headers=auth,
            json={
                "outage_id": outage_id,
                "sla_result_id": resolved["sla_result"]["id"],
                "reason": "clock started early",
                "proposed_mttr_minutes": 10,
            },
        ).json()
        accepted = http.post(
            f"/sla/disputes/{dispute['dispute_id']}/resolve",
            headers=auth,
            json={"resolution": "accepted"},
        ).json()
        assert accepted["payment_difference"] == 2125.0  # -1000 -> +1125
