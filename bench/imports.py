"""The worst bodies a client can send within the size limits, and what they cost others.

    python -m bench.imports

One server process (so a stall of its event loop is nobody else's), PostgreSQL, limits on.
For each body, organization A sends it while organization B lists its outages every 50 ms;
reports A's status and time, B's slowest answer during it (the event-loop stall a stranger
feels), and the server's memory before, at peak and after. Issue 24.4 measured, before the
bounds: a 10 MB CSV of 5.2 million rows stalled another organization's GET 15.6 s and took
the server from 149 MB to 2.6 GB (1.1 GB held after).
"""

from __future__ import annotations

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
from bench.login_flood import rss_mb, watch_memory
from bench.run import DATABASE_URL, PASSWORD, prepare_database
from tests.live import free_port

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
TEN_MB = 10 * 1024 * 1024
FAULT = {
    "resource_id": "dev-1",
    "microservice_id": "bench",
    "type": "link-down",
    "severity": "MEDIUM",
    "message": "Link down",
    "cause": "Probe failed",
}


def _outage(n: int) -> dict[str, Any]:
    return {
        "site_name": f"Site {n}",
        "site_id": f"S{n}",
        "severity": "low",
        "description": "Imported",
        "services_affected": [f"svc-{s}" for s in range(100)],
        "location": {"latitude": 1.5, "longitude": 2.5},
        "region": "north",
    }


def bodies() -> dict[str, dict[str, Any]]:
    """name -> httpx request arguments (path, and files or content)."""
    rows = (b"site_name,severity\n" + b"Site,low\n" * 1_200_000)[:TEN_MB]
    tiny = (b"[" + b"0," * (TEN_MB // 2 - 2))[: TEN_MB - 1] + b"]"
    unknown = [{**FAULT, **{f"x{k}": k for k in range(12)}} for _ in range(1000)]
    json_type = {"Content-Type": "application/json"}
    return {
        "csv_10mb_1.2m_rows": {
            "path": "/outages/import",
            "files": {"file": ("o.csv", rows, "text/csv")},
        },
        "csv_10mb_blank_lines": {
            "path": "/outages/import",
            "files": {"file": ("o.csv", b"site_name\n" + b"\n" * (TEN_MB - 11), "text/csv")},
        },
        "json_file_10mb_tiny_values": {
            "path": "/outages/import",
            "files": {"file": ("o.json", tiny, "application/json")},
        },
        "json_body_10mb_tiny_values_batch": {
            "path": "/faults/batch",
            "content": b'{"faults":' + tiny[: TEN_MB - 12] + b"]}",
            "headers": json_type,
        },
        "batch_1000_reports_unknown_keys": {
            "path": "/faults/batch",
            "content": json.dumps({"faults": unknown}).encode(),
            "headers": json_type,
        },
        "batch_1000_valid_reports": {
            "path": "/faults/batch",
            "content": json.dumps(
                {"faults": [{**FAULT, "resource_id": f"dev-{n}"} for n in range(1000)]}
            ).encode(),
            "headers": json_type,
        },
        "import_1000_outages_100_services": {
            "path": "/outages/import",
            "content": json.dumps({"outages": [_outage(n) for n in range(1000)]}).encode(),
            "headers": json_type,
        },
    }


def start(port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": DATABASE_URL,
        "REDIS_URL": "",
        "LOG_LEVEL": "WARNING",
        "ENVIRONMENT": "development",
        "RATE_LIMIT_ENABLED": "false",
    }
    command = [*uvicorn_command("127.0.0.1", port, 1), "--no-access-log", "--log-level", "warning"]
    return subprocess.Popen(command, cwd=ROOT, env=env)


async def token(http: httpx.AsyncClient, email: str) -> str:
    await http.post("/auth/register", json={"email": email, "password": PASSWORD})
    login = await http.post("/auth/login", json={"email": email, "password": PASSWORD})
    return str(login.json()["access_token"])


async def reader(http: httpx.AsyncClient, bearer: str, stop: asyncio.Event) -> list[float]:
    latencies = []
    while not stop.is_set():
        started = time.perf_counter()
        await http.get("/outages", params={"limit": 20}, headers={"Authorization": bearer})
        latencies.append((time.perf_counter() - started) * 1000)
        await asyncio.sleep(0.05)
    return latencies


async def one(
    http: httpx.AsyncClient, pid: int, attacker: str, victim: str, request: dict[str, Any]
) -> dict[str, Any]:
    before = rss_mb(pid)
    stop, peaks = asyncio.Event(), [before]
    watching = asyncio.create_task(reader(http, victim, stop))
    memory = asyncio.create_task(watch_memory(pid, stop, peaks))
    await asyncio.sleep(0.5)
    headers = {"Authorization": attacker, **request.get("headers", {})}
    args = {k: v for k, v in request.items() if k in ("files", "content")}
    started = time.perf_counter()
    response = await http.post(request["path"], headers=headers, **args)
    seconds = time.perf_counter() - started
    await asyncio.sleep(0.5)
    stop.set()
    latencies = await watching
    await memory
    return {
        "status": response.status_code,
        "seconds": round(seconds, 2),
        "other_org_slowest_get_ms": round(max(latencies), 1),
        "memory_before_mb": round(before, 1),
        "memory_peak_mb": round(max(peaks), 1),
        "memory_after_mb": round(rss_mb(pid), 1),
    }


async def run(base: str, pid: int) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base + "/api/v1", timeout=120) as http:
        attacker = "Bearer " + await token(http, "attacker@example.com")
        victim = "Bearer " + await token(http, "victim@example.com")
        results = {}
        for name, request in bodies().items():
            results[name] = await one(http, pid, attacker, victim, request)
            print(name, results[name], file=sys.stderr)
        return results


def main() -> None:
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
        result = asyncio.run(run(base, server.pid))
    finally:
        server.terminate()
        server.wait(timeout=30)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "imports.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
