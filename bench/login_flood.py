"""A login flood against the default settings: 250 concurrent bad logins from 250 addresses
while one legitimate client keeps listing outages.

    python -m bench.login_flood [--attempts 250]

The server runs as `apexchainx serve` does (2 workers, PostgreSQL, argon2id at its production
cost, rate limits on), behind a trusted proxy address so each attempt can come from an
address of its own (`X-Forwarded-For`). Reports the legitimate client's latency and statuses,
the flood's statuses, and the peak memory of the server's processes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from app.serving import uvicorn_command
from bench.run import DATABASE_URL, PASSWORD, prepare_database
from tests.live import free_port

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def start(port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": DATABASE_URL,
        "REDIS_URL": "",
        "LOG_LEVEL": "WARNING",
        "ENVIRONMENT": "development",
        "TRUSTED_PROXIES": "127.0.0.1/32",  # the bench stands in for a proxy
    }
    for name in ("ARGON2_TIME_COST", "ARGON2_MEMORY_COST_KIB", "ARGON2_PARALLELISM"):
        env.pop(name, None)  # production's hashing cost
    command = [*uvicorn_command("127.0.0.1", port, 2), "--no-access-log", "--log-level", "warning"]
    return subprocess.Popen(command, cwd=ROOT, env=env)


def rss_mb(root_pid: int) -> float:
    """Resident memory of the server and its worker processes."""
    pids, total = [root_pid], 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().split()
            except OSError:
                continue
            if int(stat[3]) == root_pid:
                pids.append(int(entry.name))
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else 0.0


async def flood(api: str, attempts: int) -> dict[str, int]:
    limits = httpx.Limits(max_connections=attempts, max_keepalive_connections=attempts)
    async with httpx.AsyncClient(base_url=api, timeout=120, limits=limits) as http:

        async def attempt(n: int) -> int:
            address = f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"
            body = {"email": f"flood-{n}@example.com", "password": "Wrong-Password-1!"}
            try:
                response = await http.post(
                    "/auth/login", json=body, headers={"X-Forwarded-For": address}
                )
                return response.status_code
            except httpx.TransportError:
                return 0

        statuses = await asyncio.gather(*(attempt(n) for n in range(attempts)))
    counts: dict[str, int] = {}
    for status in statuses:
        counts[str(status)] = counts.get(str(status), 0) + 1
    return counts


async def legitimate(api: str, token: str, stop: asyncio.Event) -> tuple[list[float], list[int]]:
    """One client listing outages about once every 0.7 s (within its 100 per minute)."""
    latencies, statuses = [], []
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=api, timeout=60) as http:
        while not stop.is_set():
            started = time.perf_counter()
            response = await http.get("/outages", params={"limit": 50}, headers=headers)
            latencies.append((time.perf_counter() - started) * 1000)
            statuses.append(response.status_code)
            await asyncio.sleep(0.7)
    return latencies, statuses


async def watch_memory(pid: int, stop: asyncio.Event, peaks: list[float]) -> None:
    while not stop.is_set():
        peaks.append(rss_mb(pid))
        await asyncio.sleep(0.1)


async def run(base: str, pid: int, attempts: int) -> dict[str, Any]:
    api = base + "/api/v1"
    async with httpx.AsyncClient(base_url=api, timeout=60) as http:
        await http.post("/auth/register", json={"email": "legit@example.com", "password": PASSWORD})
        login = await http.post(
            "/auth/login", json={"email": "legit@example.com", "password": PASSWORD}
        )
        token = login.json()["access_token"]
        rows = [{"site_name": f"Site {i}", "severity": "high"} for i in range(50)]
        await http.post(
            "/outages/import", json={"outages": rows}, headers={"Authorization": f"Bearer {token}"}
        )
    idle = rss_mb(pid)
    stop, peaks = asyncio.Event(), [idle]
    reader = asyncio.create_task(legitimate(api, token, stop))
    memory = asyncio.create_task(watch_memory(pid, stop, peaks))
    await asyncio.sleep(1.5)
    started = time.perf_counter()
    counts = await flood(api, attempts)
    flood_seconds = time.perf_counter() - started
    await asyncio.sleep(1.0)
    stop.set()
    latencies, statuses = await reader
    await memory
    return {
        "attempts": attempts,
        "flood_seconds": round(flood_seconds, 1),
        "flood_statuses": counts,
        "legitimate_requests": len(statuses),
        "legitimate_5xx": sum(1 for s in statuses if s >= 500),
        "legitimate_statuses": sorted(set(statuses)),
        "legitimate_p50_ms": round(percentile(latencies, 50), 1),
        "legitimate_p99_ms": round(percentile(latencies, 99), 1),
        "memory_idle_mb": round(idle, 1),
        "memory_peak_mb": round(max(peaks), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--attempts", type=int, default=250)
    args = parser.parse_args()
    prepare_database()
    port = free_port()
    server = start(port)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                if httpx.get(base + "/health/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        result = asyncio.run(run(base, server.pid, args.attempts))
    finally:
        server.terminate()
        server.wait(timeout=30)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "login_flood.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    bar = (
        result["legitimate_5xx"] == 0
        and result["legitimate_p99_ms"] <= 500
        and result["memory_peak_mb"] < 600
        and "503" not in result["flood_statuses"]
    )
    print("bar met" if bar else "bar MISSED", file=sys.stderr)


if __name__ == "__main__":
    main()
