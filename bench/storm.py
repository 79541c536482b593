"""Alarm storms: batch intake throughput, and a storm through batch and single intake at once.

    python -m bench.storm            (make bench runs it too)
    python -m bench.storm --quick    (a smaller storm)

1. Batch throughput: 4 connections sending 500-fault batches for 15 s (2 000 devices under 50
   sites, 30 % of reports repeating an earlier one).
2. The storm: 100 000 reports arriving over 60 s from 2 000 devices under 50 sites, 30 %
   repeats, 2 % of them CRITICAL: 95 % forwarded by two collectors in batches of 500, 5 % sent
   by devices that report directly, one request per fault, from 8 clients (their latency is
   measured throughout). Then, read from the database: every report is
   stored or folded (the occurrences add up to what was sent) and each site with a CRITICAL
   report has exactly one outage opened by a fault.

Results print and go to bench/results/storm.json; docs/performance.md records them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from bench.run import DATABASE_URL, ROOT, login, prepare_database, start_server

DEVICES, SITES, REPEATS, CRITICAL = 2000, 50, 0.3, 0.02


@dataclass
class Reports:
    """Reports of a storm: fresh (device, alarm) keys, or repeats of keys already sent."""

    rng: random.Random = field(default_factory=lambda: random.Random(7))
    # The devices this sender hears from: a device reports through one collector, so its
    # repeats come through that collector too.
    devices: range = range(DEVICES)
    sent: list[tuple[int, int]] = field(default_factory=list)
    next_alarm: dict[int, int] = field(default_factory=dict)

    def one(self) -> dict[str, Any]:
        if self.sent and self.rng.random() < REPEATS:
            device, alarm = self.rng.choice(self.sent)
        else:
            device = self.rng.choice(self.devices)
            alarm = self.next_alarm.get(device, 0)
            self.next_alarm[device] = alarm + 1
            self.sent.append((device, alarm))
        critical = self.rng.random() < CRITICAL
        return {
            "resource_id": f"dev_{device}",
            "microservice_id": "storm",
            "type": f"alarm-{alarm}",
            "severity": "CRITICAL" if critical else "WARNING",
            "message": f"alarm {alarm} on device {device}",
            "cause": "upstream backbone link down",
            "resource_ancestry_path": f"region_1|site_{device % SITES}|dev_{device}",
        }

    def many(self, count: int) -> list[dict[str, Any]]:
        return [self.one() for _ in range(count)]


def _client(base: str, token: str) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.AsyncClient(base_url=base + "/api/v1", headers=headers, timeout=120)


# A batch goes on a connection of its own, as a collector that posts every few seconds
# would: four kept-alive connections tend to be accepted by the same server process (the
# idle one wins every accept), which leaves the other process idle and measures one core.
CLOSE = {"Connection": "close"}


async def batch_throughput(base: str, token: str, seconds: float) -> dict[str, Any]:
    """Four collectors, each forwarding the reports of its own quarter of the devices."""
    sent = 0
    latencies: list[float] = []
    async with _client(base, token) as http:
        deadline = time.monotonic() + seconds

        async def sender(collector: int) -> None:
            nonlocal sent
            reports = Reports(random.Random(collector), range(collector, DEVICES, 4))
            while time.monotonic() < deadline:
                batch = reports.many(500)
                started = time.monotonic()
                response = await http.post("/faults/batch", json={"faults": batch}, headers=CLOSE)
                latencies.append(time.monotonic() - started)
                assert response.status_code == 200, response.text[:300]
                sent += len(batch)

        started = time.monotonic()
        await asyncio.gather(*(sender(c) for c in range(4)))
        elapsed = time.monotonic() - started
    return {
        "connections": 4,
        "batch_size": 500,
        "faults": sent,
        "seconds": round(elapsed, 1),
        "faults_per_second": round(sent / elapsed),
        "batch_p50_ms": round(statistics.median(latencies) * 1000),
        "batch_max_ms": round(max(latencies) * 1000),
    }


async def storm(base: str, token: str, total: int, seconds: float) -> dict[str, Any]:
    # Single intake does about 250 faults/s on this machine on its own: a fifth of the storm
    # (333/s) sent one by one saturates it whatever batches do. Collectors batch; a few
    # devices report directly.
    batched_share, batch_size, singles, collectors = 0.95, 500, 8, 2
    # Devices are split between the collectors and those reporting directly.
    groups = collectors + 1
    direct = Reports(random.Random(11), range(collectors, DEVICES, groups))
    batches = int(total * batched_share) // batch_size
    single_total = total - batches * batch_size
    single_latencies: list[float] = []
    batch_latencies: list[float] = []
    codes: dict[int, int] = {}
    sent = 0
    async with _client(base, token) as http:
        started = time.monotonic()

        async def batch_sender(collector: int) -> None:
            nonlocal sent
            reports = Reports(random.Random(collector), range(collector, DEVICES, groups))
            for n in range(collector, batches, collectors):
                await _until(started + seconds * n / batches)
                began = time.monotonic()
                response = await http.post(
                    "/faults/batch", json={"faults": reports.many(500)}, headers=CLOSE
                )
                batch_latencies.append(time.monotonic() - began)
                codes[response.status_code] = codes.get(response.status_code, 0) + 1
                sent += batch_size if response.status_code == 200 else 0

        async def single_sender(worker: int) -> None:
            nonlocal sent
            mine = range(worker, single_total, singles)
            for n in mine:
                await _until(started + seconds * n / single_total)
                began = time.monotonic()
                response = await http.post("/faults", json=direct.one())
                single_latencies.append(time.monotonic() - began)
                codes[response.status_code] = codes.get(response.status_code, 0) + 1
                sent += 1 if response.status_code in (200, 201) else 0

        await asyncio.gather(
            *(batch_sender(c) for c in range(collectors)),
            *(single_sender(w) for w in range(singles)),
        )
        elapsed = time.monotonic() - started
    single_latencies.sort()
    return {
        "reports": total,
        "accepted": sent,
        "seconds": round(elapsed, 1),
        "status_codes": codes,
        "single_p50_ms": round(single_latencies[len(single_latencies) // 2] * 1000),
        "single_p99_ms": round(single_latencies[int(len(single_latencies) * 0.99)] * 1000),
        "single_max_ms": round(single_latencies[-1] * 1000),
        "batch_p50_ms": round(statistics.median(batch_latencies) * 1000),
        "batch_max_ms": round(max(batch_latencies) * 1000),
    }


async def _until(moment: float) -> None:
    delay = moment - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)


async def tally(email: str) -> dict[str, Any]:
    """What the database holds for the organization: faults, occurrences, opened outages."""
    url = make_url(DATABASE_URL).set(drivername="postgresql")
    connection = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        org = await connection.fetchval("SELECT organization_id FROM users WHERE email = $1", email)
        faults, occurrences = await connection.fetchrow(
            "SELECT count(*), coalesce(sum(occurrences), 0) FROM faults WHERE organization_id = $1",
            org,
        )
        opened = await connection.fetch(
            "SELECT o.site_id, count(*) AS n FROM outages o WHERE o.organization_id = $1 AND "
            "o.id IN (SELECT outage_id FROM faults WHERE opened_outage AND organization_id = $1) "
            "GROUP BY o.site_id",
            org,
        )
        critical_sites = await connection.fetchval(
            "SELECT count(DISTINCT split_part(resource_ancestry_path, '|', 2)) FROM faults "
            "WHERE organization_id = $1 AND severity = 'CRITICAL'",
            org,
        )
    finally:
        await connection.close()
    return {
        "faults_stored": faults,
        "occurrences": occurrences,
        "sites_with_critical_reports": critical_sites,
        "sites_with_an_opened_outage": len(opened),
        "most_outages_opened_on_one_site": max((r["n"] for r in opened), default=0),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    prepare_database()
    process, base = start_server(2)
    results: dict[str, Any] = {}
    try:
        token = login(base, "batch@example.com")
        seconds_of_batches = 5 if args.quick else 15
        results["batch_intake"] = asyncio.run(batch_throughput(base, token, seconds_of_batches))
        storm_token = login(base, "storm@example.com")
        total, seconds = (10_000, 10.0) if args.quick else (100_000, 60.0)
        results["storm"] = asyncio.run(storm(base, storm_token, total, seconds))
        results["storm_tally"] = asyncio.run(tally("storm@example.com"))
    finally:
        process.terminate()
        process.wait(timeout=30)
    print(json.dumps(results, indent=2))
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "storm.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
