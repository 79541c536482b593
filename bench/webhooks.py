"""Webhook delivery throughput: 1000 events fanned out to 10 subscriptions, delivered by one
Celery worker to a receiver on 127.0.0.1.

    python -m bench.webhooks            # (make bench runs it too)
    python -m bench.webhooks --events 200

Results print and go to bench/results/webhooks.json; docs/performance.md records them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from app.background import open_database
from app.config import Settings
from app.jobs.models import Job
from app.webhooks.fanout import DELIVER
from bench.payouts import ENV as PAYOUT_ENV
from bench.payouts import job_rate, prepare, start_api, wait_for
from tests.celery_worker import start_worker, stop_worker
from tests.receivers import Receiver

ROOT = Path(__file__).resolve().parent.parent
DATABASE_URL = os.environ.get(
    "BENCH_WEBHOOKS_DATABASE_URL",
    "postgresql+asyncpg://postgres@127.0.0.1:5432/apexchainx_bench_webhooks",
)
ENV = {**PAYOUT_ENV, "DATABASE_URL": DATABASE_URL, "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true"}
SUBSCRIBERS = 10


async def main(events: int) -> dict[str, Any]:
    await prepare(ENV)
    database = open_database(Settings(**{k.lower(): v for k, v in ENV.items()}))
    api_process, base = await asyncio.to_thread(start_api, ENV)
    worker = None
    http = httpx.AsyncClient(base_url=base + "/api/v1", timeout=300)
    with Receiver() as receiver:
        try:
            credentials = {"email": "hooks@example.com", "password": "Bench-Password-42!"}
            await http.post("/auth/register", json=credentials)
            token = (await http.post("/auth/login", json=credentials)).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            for n in range(SUBSCRIBERS):
                body = {"name": f"sub {n}", "url": f"{receiver.url}/{n}", "events": ["*"]}
                (await http.post("/webhooks", json=body, headers=headers)).raise_for_status()
            outages = [{"site_name": f"Site {i}", "severity": "low"} for i in range(events)]
            started = time.monotonic()
            imported = await http.post(
                "/outages/import", json={"outages": outages}, headers=headers
            )
            imported.raise_for_status()
            fan_out_seconds = time.monotonic() - started
            logs = Path(tempfile.mkdtemp(prefix="bench-webhooks-"))
            worker = await asyncio.to_thread(
                start_worker, logs / "worker.log", ENV, "bench-webhooks", "webhooks"
            )
            total = events * SUBSCRIBERS
            done = (
                select(func.count())
                .select_from(Job)
                .where(Job.kind == DELIVER, Job.status == "succeeded")
            )
            await wait_for(database, done, total, within=1200)
            rate = await job_rate(database, DELIVER)
        finally:
            if worker is not None and worker.poll() is None:
                stop_worker(worker)
            api_process.terminate()
            api_process.wait(timeout=30)
            await database.dispose()
            await http.aclose()
        received = len(receiver.received)
    return {
        "events": events,
        "subscribers": SUBSCRIBERS,
        "import_with_fan_out_seconds": round(fan_out_seconds, 2),
        "deliveries": rate,
        "received": received,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1000)
    results = asyncio.run(main(parser.parse_args().events))
    print(json.dumps(results, indent=2))
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "webhooks.json").write_text(json.dumps(results, indent=2))
