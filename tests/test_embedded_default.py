"""The embedded default (`make run`): SQLite file, inline jobs, no Redis, over real HTTP."""

import asyncio
import importlib.util
import time
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from stellar_sdk import Keypair, TransactionEnvelope

from app.background import open_database
from app.config import Settings
from app.core.clock import isoformat, utcnow
from app.stellar.genesis import open_local_account
from app.stellar.network import LOCAL_PASSPHRASE
from app.stellar.runtime import stellar_for
from tests.helpers import PASSWORD
from tests.live import ROOT, live_server

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    database = Path(tmp_path_factory.mktemp("embedded")) / "apexchainx.db"
    return f"sqlite+aiosqlite:///{database}"


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[str]:
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": "",
        "ENVIRONMENT": "development",
        # The module's tests sign in a dozen times from one address within minutes: more
        # than the per-address sign-in limit (its own tests are elsewhere).
        "AUTH_IP_MAX_ATTEMPTS": "100",
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
        detected, resolved_at = _lasting(25)
        created = http.post(
            "/outages",
            headers=auth,
            json={
                "site_name": "Lagos Core",
                "severity": "critical",
                "region": "west",
                "services_affected": ["4G", "5G"],
                "description": "Fiber cut at the river",
                "detected_at": detected,
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
            f"/outages/{outage_id}/resolve", headers=auth, json={"resolved_at": resolved_at}
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
        approver = {"email": "approver@example.com", "password": PASSWORD, "role": "admin"}
        assert http.post("/users", headers=auth, json=approver).status_code == 201
        second = http.post(
            "/auth/login", json={"email": approver["email"], "password": PASSWORD}
        ).json()
        accepted = http.post(
            f"/sla/disputes/{dispute['dispute_id']}/resolve",
            headers={"Authorization": f"Bearer {second['access_token']}"},
            json={"resolution": "accepted"},
        ).json()
        assert accepted["payment_difference"] == 2125.0  # -1000 -> +1125


def _lasting(minutes: int) -> tuple[str, str]:
    """detected_at `minutes` ago, and a resolved_at that stops the clock now."""
    detected = utcnow() - timedelta(minutes=minutes)
    return isoformat(detected), isoformat(detected + timedelta(minutes=minutes))


def _payment(http: httpx.Client, auth: dict[str, str], outage_id: str, status: str) -> dict:  # type: ignore[type-arg]
    deadline = time.monotonic() + 20
    while True:
        payment = http.get(f"/outages/{outage_id}", headers=auth).json()["payment"]
        if payment["status"] == status or time.monotonic() > deadline:
            return dict(http.get(f"/payments/{payment['id']}", headers=auth).json())
        time.sleep(0.2)


def test_payouts_on_the_local_ledger_with_inline_jobs(server: str, database_url: str) -> None:
    operator, ops_team = Keypair.random(), Keypair.random()
    asyncio.run(_open_accounts(database_url, operator.public_key, ops_team.public_key))
    with httpx.Client(base_url=server + "/api/v1") as http:
        http.post("/auth/register", json={"email": "pay@example.com", "password": PASSWORD})
        login = http.post("/auth/login", json={"email": "pay@example.com", "password": PASSWORD})
        auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
        for entity, keypair in (("operator", operator), ("ops_team", ops_team)):
            wallet = {"entity_id": entity, "address": keypair.public_key}
            assert http.post("/wallets", headers=auth, json=wallet).status_code == 201
        ids = []
        for mttr in (5, 25):  # a reward of 1500, a penalty of 1000
            detected, resolved_at = _lasting(mttr)
            outage = http.post(
                "/outages",
                headers=auth,
                json={"site_name": "Site", "severity": "critical", "detected_at": detected},
            ).json()
            resolved = http.post(
                f"/outages/{outage['id']}/resolve",
                headers=auth,
                json={"resolved_at": resolved_at},
            )
            assert resolved.status_code == 200
            ids.append(outage["id"])
        reward = _payment(http, auth, ids[0], "confirmed")
        assert reward["status"] == "confirmed" and reward["amount"] == 1500.0
        penalty = _payment(http, auth, ids[1], "awaiting_signature")
        assert penalty["status"] == "awaiting_signature"
        envelope = TransactionEnvelope.from_xdr(penalty["unsigned_xdr"], LOCAL_PASSPHRASE)
        envelope.sign(operator)
        signed = http.post(
            f"/payments/{penalty['id']}/signed",
            headers=auth,
            json={"signed_xdr": envelope.to_xdr()},
        )
        assert signed.status_code == 202, signed.text
        assert _payment(http, auth, ids[1], "confirmed")["status"] == "confirmed"
        balance = http.get(
            f"/wallets/address/{operator.public_key}/balance",
            headers=auth,
            params={"refresh": "true"},
        ).json()
        assert balance["usdc_balance"] == "9000.0000000"
        assert http.get("/payments", headers=auth).json()["summary"]["net_amount"] == 500.0


async def _open_accounts(database_url: str, operator: str, ops_team: str) -> None:
    """The test acts as the local network's operator: friendbot, trustlines, minting."""
    database = open_database(Settings(database_url=database_url))
    try:
        ledger = stellar_for(database).local
        assert ledger is not None
        await open_local_account(ledger, operator, Decimal(10_000))
        await open_local_account(ledger, ops_team)
    finally:
        await database.dispose()


def test_the_quick_start_walk(server: str) -> None:
    """docs/examples/quickstart_walk.py, as docs/quickstart.md tells a newcomer to run it."""
    spec = importlib.util.spec_from_file_location(
        "quickstart_walk", ROOT / "docs/examples/quickstart_walk.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    done = module.walk(server)
    reward, penalty = done["reward"], done["penalty"]
    assert (reward["type"], reward["amount"], reward["status"]) == ("reward", 1500.0, "confirmed")
    assert (penalty["type"], penalty["amount"], penalty["status"]) == (
        "penalty",
        1000.0,
        "confirmed",
    )
    assert done["operator_balance"]["usdc_balance"] == "99000.0000000"
    # The claim of 5 minutes on a 40-minute outage: nothing paid until approved, then 1 500.
    assert (done["claim"]["claimed_mttr_minutes"], done["claim"]["measured_mttr_minutes"]) == (
        5,
        40,
    )
    approved = done["approved"]
    assert (approved["type"], approved["amount"], approved["status"]) == (
        "reward",
        1500.0,
        "confirmed",
    )
    statement = done["statement"]
    assert statement["status"] == "open" and statement["totals"]["outages"] == 3
    assert statement["totals"]["net"] == "2000.0000000"  # 1500 - 1000 + 1500
