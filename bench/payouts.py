"""Background work throughput: one Celery worker evaluating SLAs and paying on the local
ledger, and the time from resolve to confirmed payout under a burst of resolves.

    python -m bench.payouts                  # 1000 resolves, batches of 100 (make bench)
    python -m bench.payouts --batch-size 1   # one transaction per payment (the old way)
    python -m bench.payouts --count 200

PostgreSQL (BENCH_JOBS_DATABASE_URL) and Redis (db 11) of this machine; results print and
go to bench/results/payouts.json; docs/performance.md records them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import redis
from sqlalchemy import func, select
from stellar_sdk import Keypair

from app.background import open_database
from app.config import Settings
from app.core.db import Database
from app.core.tenancy import system_session
from app.jobs import dispatch
from app.jobs import service as jobs
from app.jobs.models import Job
from app.outages.models import Outage
from app.payments.models import Payment
from app.serving import uvicorn_command
from app.sla.tasks import RECALCULATE
from app.stellar.genesis import ensure_local_pool, open_local_account
from app.stellar.runtime import stellar_for
from tests.celery_worker import start_worker, stop_worker
from tests.live import free_port

ROOT = Path(__file__).resolve().parent.parent
DATABASE_URL = os.environ.get(
    "BENCH_JOBS_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/apexchainx_bench_jobs"
)
BROKER = "redis://127.0.0.1:6379/11"
PASSWORD = "Bench-Password-42!"
ENV = {
    "DATABASE_URL": DATABASE_URL,
    "REDIS_URL": "",
    "JOBS_EXECUTOR": "celery",
    "CELERY_BROKER_URL": BROKER,
    "RATE_LIMIT_ENABLED": "false",
    "LOG_LEVEL": "WARNING",
    "ENVIRONMENT": "development",
    "SECRET_KEY": "bench-secret-key-bench-secret-key-0123456789",
}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def start_api(env: dict[str, str] | None = None) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [*uvicorn_command("127.0.0.1", port, 2), "--no-access-log", "--log-level", "warning"],
        cwd=ROOT,
        env={**os.environ, **(env or ENV)},
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            if httpx.get(base + "/health/ready", timeout=1).status_code == 200:
                return process, base
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("server did not start")


async def open_wallets(database: Database) -> tuple[str, str]:
    ledger = stellar_for(database).local
    assert ledger is not None
    await ensure_local_pool(ledger)
    await ledger.mint(ledger.network.pool_address, Decimal(10_000_000))  # 1000 x 1500 and more
    operator, ops_team = Keypair.random().public_key, Keypair.random().public_key
    await open_local_account(ledger, operator, usdc=Decimal(1_000_000))
    await open_local_account(ledger, ops_team)
    return operator, ops_team


async def wait_for(database: Database, query: Any, target: int, within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        async with system_session(database, "test inspection") as session:
            if (await session.execute(query)).scalar_one() >= target:
                return
        await asyncio.sleep(0.5)
    raise RuntimeError("timed out waiting for the worker")


async def job_rate(database: Database, kind: str) -> dict[str, float]:
    async with system_session(database, "test inspection") as session:
        first, last, count = (
            await session.execute(
                select(
                    func.min(Job.last_attempt_at), func.max(Job.finished_at), func.count()
                ).where(Job.kind == kind, Job.status == "succeeded")
            )
        ).one()
    seconds = (last - first).total_seconds()
    return {
        "jobs": count,
        "seconds": round(seconds, 2),
        "jobs_per_second": round(count / seconds, 1),
    }


async def import_outages(
    http: httpx.AsyncClient, headers: dict[str, str], database: Database, count: int
) -> list[str]:
    """`count` open critical outages detected ten minutes ago; their ids."""
    detected = (datetime.now(UTC) - timedelta(minutes=10)).isoformat()
    outages = [
        {"site_name": f"Site {i}", "severity": "critical", "detected_at": detected}
        for i in range(count)
    ]
    imported = await http.post(
        "/outages/import", json={"outages": outages}, headers=headers, timeout=120
    )
    imported.raise_for_status()
    async with system_session(database, "test inspection") as session:
        query = select(Outage.id).where(Outage.status != "resolved")
        return list((await session.execute(query)).scalars())


async def drain_backlog(
    base: str,
    token: str,
    http: httpx.AsyncClient,
    headers: dict[str, str],
    database: Database,
    logs: Path,
    count: int,
) -> dict[str, float]:
    """A worker's payout capacity: `count` payouts waiting, then one worker starts; from its
    first claim to the last confirmation."""
    since = datetime.now(UTC)
    ids = await import_outages(http, headers, database, count)
    await resolve_burst(base, token, ids)
    worker = await asyncio.to_thread(
        start_worker, logs / "backlog.log", ENV, "bench-backlog", "payouts,default"
    )
    try:
        confirmed = (
            select(func.count())
            .select_from(Payment)
            .where(Payment.status == "confirmed", Payment.created_at >= since)
        )
        await wait_for(database, confirmed, count, within=600)
    finally:
        stop_worker(worker)
    async with system_session(database, "test inspection") as session:
        first_claim = (
            await session.execute(
                select(func.min(Job.last_attempt_at)).where(
                    Job.kind == "payments.execute", Job.created_at >= since
                )
            )
        ).scalar_one()
        last_confirmed = (
            await session.execute(
                select(func.max(Payment.confirmed_at)).where(Payment.created_at >= since)
            )
        ).scalar_one()
    seconds = (last_confirmed - first_claim).total_seconds()
    return {"payouts": count, "seconds": round(seconds, 2), "per_second": round(count / seconds, 1)}


async def resolve_burst(base: str, token: str, ids: list[str]) -> float:
    headers = {"Authorization": f"Bearer {token}"}
    limit = asyncio.Semaphore(32)
    async with httpx.AsyncClient(base_url=base + "/api/v1", headers=headers, timeout=60) as http:

        async def one(outage_id: str) -> None:
            async with limit:
                response = await http.post(
                    f"/outages/{outage_id}/resolve", json={"mttr_minutes": 5}
                )
                response.raise_for_status()

        started = time.monotonic()
        await asyncio.gather(*(one(i) for i in ids))
        return time.monotonic() - started


async def prepare(env: dict[str, str]) -> None:
    """A fresh database at the head migration and an empty broker."""
    await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "tools/recreate_db.py", env["DATABASE_URL"]],
        cwd=ROOT,
        check=True,
    )
    await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=ROOT,
        check=True,
        env={**os.environ, **env},
        capture_output=True,
    )
    redis.Redis.from_url(env["CELERY_BROKER_URL"]).flushdb()


async def main(count: int, batch_size: int) -> dict[str, Any]:
    ENV["PAYOUT_BATCH_SIZE"] = str(batch_size)
    await prepare(ENV)
    settings = Settings(**{k.lower(): v for k, v in ENV.items()})
    database = open_database(settings)
    api_process, base = await asyncio.to_thread(start_api)
    logs = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    worker = None
    http = httpx.AsyncClient(base_url=base + "/api/v1", timeout=120)
    try:
        await http.post("/auth/register", json={"email": "bench@example.com", "password": PASSWORD})
        login = await http.post(
            "/auth/login", json={"email": "bench@example.com", "password": PASSWORD}
        )
        token = login.json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        operator, ops_team = await open_wallets(database)
        for entity, address in (("operator", operator), ("ops_team", ops_team)):
            registered = await http.post(
                "/wallets", json={"entity_id": entity, "address": address}, headers=headers
            )
            registered.raise_for_status()
        ids = await import_outages(http, headers, database, count)

        worker = await asyncio.to_thread(
            start_worker, logs / "payouts.log", ENV, "bench-payouts", "payouts,default"
        )
        resolve_seconds = await resolve_burst(base, token, ids)
        confirmed = select(func.count()).select_from(Payment).where(Payment.status == "confirmed")
        await wait_for(database, confirmed, count, within=600)
        async with system_session(database, "test inspection") as session:
            rows = (await session.execute(select(Payment.created_at, Payment.confirmed_at))).all()
        latencies = [(done - created).total_seconds() for created, done in rows]
        # From the first payment planned to the last confirmed: the worker's payout rate.
        confirm_seconds = (
            max(done for _, done in rows) - min(created for created, _ in rows)
        ).total_seconds()
        payouts = await job_rate(database, "payments.execute")
        stop_worker(worker)
        backlog = await drain_backlog(base, token, http, headers, database, logs, count)

        # SLA evaluation: a policy change, then one recalculation job per outage.
        changed = await http.put(
            "/sla/config/critical",
            headers=headers,
            json={"threshold_minutes": 15, "penalty_per_minute": 100, "reward_base": 800},
        )
        changed.raise_for_status()
        async with system_session(database, "test inspection") as session:
            org = (await session.execute(select(Outage.organization_id).limit(1))).scalar_one()
            enqueued = [
                jobs.enqueue(
                    session,
                    RECALCULATE,
                    {"organization_id": org, "outage_ids": [i]},
                    organization_id=org,
                )
                for i in ids
            ]
            await session.commit()
        worker = await asyncio.to_thread(start_worker, logs / "sla.log", ENV, "bench-sla", "sla")
        dispatch.send(dispatch.celery_client(settings), [(j.id, "sla") for j in enqueued])
        done = (
            select(func.count())
            .select_from(Job)
            .where(Job.kind == RECALCULATE, Job.status == "succeeded")
        )
        await wait_for(database, done, count, within=600)
        sla = await job_rate(database, RECALCULATE)
    finally:
        if worker is not None and worker.poll() is None:
            stop_worker(worker)
        api_process.terminate()
        api_process.wait(timeout=30)
        await database.dispose()
        await http.aclose()
    return {
        "resolves": count,
        "payout_batch_size": batch_size,
        "payouts_confirmed_per_second_during_burst": round(count / confirm_seconds, 1),
        "backlog_drain": backlog,
        "resolve_burst_seconds": round(resolve_seconds, 2),
        "payout_latency_seconds": {
            "p50": round(statistics.median(latencies), 2),
            "p99": round(percentile(latencies, 99), 2),
            "max": round(max(latencies), 2),
        },
        "payout_jobs": payouts,
        "sla_evaluation_jobs": sla,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=100)
    arguments = parser.parse_args()
    results = asyncio.run(main(arguments.count, arguments.batch_size))
    print(json.dumps(results, indent=2))
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "payouts.json").write_text(json.dumps(results, indent=2))
