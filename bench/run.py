"""Benchmarks of the outage API against PostgreSQL, with uvicorn and wrk on this machine.

    make bench              # everything (about 6 minutes, plus 1M-row seeding)
    python -m bench.run --quick    # shorter wrk runs, no 1M-row step
    python -m bench.run --million-only    # the 1M-row step alone

Results print as a table and are written to bench/results/latest.json; docs/performance.md
records the figures and what limits them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from app.serving import uvicorn_command
from bench.seed import seed_million, vacuum_analyze
from tests.live import free_port

ROOT = Path(__file__).resolve().parent.parent
DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/apexchainx_bench"
)
PASSWORD = "Bench-Password-42!"


def _server_env() -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": DATABASE_URL,
        "REDIS_URL": "",
        "RATE_LIMIT_ENABLED": "false",  # the benchmark measures the work, not the limiter
        "LOG_LEVEL": "WARNING",
        "ENVIRONMENT": "development",
        "DATABASE_POOL_SIZE": "20",
    }


def start_server(workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [*uvicorn_command("127.0.0.1", port, workers), "--no-access-log", "--log-level", "warning"],
        cwd=ROOT,
        env=_server_env(),
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if httpx.get(base + "/health/ready", timeout=1).status_code == 200:
                return process, base
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("server did not start")


def prepare_database() -> None:
    subprocess.run([sys.executable, "tools/recreate_db.py", DATABASE_URL], cwd=ROOT, check=True)
    subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=ROOT,
        check=True,
        env={**os.environ, "DATABASE_URL": DATABASE_URL},
        capture_output=True,
    )


def login(base: str, email: str) -> str:
    api = base + "/api/v1"
    httpx.post(api + "/auth/register", json={"email": email, "password": PASSWORD}, timeout=30)
    response = httpx.post(
        api + "/auth/login", json={"email": email, "password": PASSWORD}, timeout=30
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


_LATENCY = re.compile(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
_ERRORS = re.compile(r"Non-2xx or 3xx responses: (\d+)")
_UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url: str, token: str, connections: int, seconds: int, script: str) -> dict[str, Any]:
    result = subprocess.run(
        [
            "wrk",
            "-t",
            "2",
            "-c",
            str(connections),
            "-d",
            f"{seconds}s",
            "--latency",
            "-s",
            str(ROOT / "bench" / "wrk" / script),
            url,
        ],
        env={**os.environ, "BENCH_TOKEN": token},
        capture_output=True,
        text=True,
        check=True,
    )
    out = result.stdout
    latency = {f"p{p}_ms": round(float(v) * _UNIT[u], 2) for p, v, u in _LATENCY.findall(out)}
    errors = _ERRORS.search(out)
    return {
        "connections": connections,
        "rps": float(_RPS.search(out).group(1)),  # type: ignore[union-attr]
        "non_2xx": int(errors.group(1)) if errors else 0,
        **latency,
    }


def timed(fn: Any, runs: int) -> dict[str, float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "runs": runs,
        "p50_ms": round(statistics.median(samples), 1),
        "p99_ms": round(samples[min(len(samples) - 1, int(len(samples) * 0.99))], 1),
        "max_ms": round(samples[-1], 1),
    }


def bulk_import(base: str, token: str) -> dict[str, float]:
    records = [
        {
            "site_name": f"Import {i}",
            "severity": "medium",
            "services_affected": ["4G"],
            "description": f"Imported outage {i}",
        }
        for i in range(1000)
    ]
    headers = {"Authorization": f"Bearer {token}"}

    def once() -> None:
        response = httpx.post(
            base + "/api/v1/outages/import", json={"outages": records}, headers=headers, timeout=60
        )
        assert response.status_code == 201, response.text[:200]

    return timed(once, 5)


def single_client(
    base: str, token: str, path: str, params: dict[str, Any], runs: int = 200
) -> dict[str, float]:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base + "/api/v1", headers=headers, timeout=30) as http:
        http.get(path, params=params)  # warm up

        def once() -> None:
            assert http.get(path, params=params).status_code == 200

        return timed(once, runs)


def throughput(base: str, token: str, seconds: int) -> dict[str, Any]:
    url = base + "/api/v1/outages"
    return {
        "get_list": [wrk(url + "?limit=50", token, c, seconds, "get.lua") for c in (8, 32)],
        "post_create": [wrk(url, token, c, seconds, "post_outage.lua") for c in (8, 32)],
        "bulk_import_1000": bulk_import(base, token),
    }


def at_a_million(base: str, token: str) -> dict[str, dict[str, float]]:
    """Single-client latencies in the organization of a million outages."""
    cases: dict[str, tuple[str, dict[str, Any]]] = {
        "list_first_page": ("/outages", {"limit": 50}),
        "list_severity_and_status": (
            "/outages",
            {"limit": 50, "severity": "critical", "status": "resolved"},
        ),
        "search_rare_word": ("/outages/search", {"q": "transformer", "limit": 50}),
        "search_common_word": ("/outages/search", {"q": "fiber", "limit": 50}),
    }
    return {
        name: single_client(base, token, path, params) for name, (path, params) in cases.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--million-only", action="store_true")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    seconds = 5 if args.quick else 15
    prepare_database()
    process, base = start_server(args.workers)
    results: dict[str, Any] = {"workers": args.workers, "seconds": seconds}
    try:
        token = login(base, "bench@example.com")
        for _ in range(2):
            httpx.post(
                base + "/api/v1/outages/import",
                timeout=60,
                headers={"Authorization": f"Bearer {token}"},
                json={
                    "outages": [{"site_name": f"Seed {i}", "severity": "high"} for i in range(500)]
                },
            )
        if not args.million_only:
            results.update(throughput(base, token, seconds))
        if not args.quick:
            big_token = login(base, "million@example.com")
            results["seed_1m_seconds"] = seed_million(DATABASE_URL, "million@example.com")
            results["at_1m_right_after_seeding"] = at_a_million(base, big_token)
            vacuum_analyze(DATABASE_URL)
            results["at_1m_after_vacuum_analyze"] = at_a_million(base, big_token)
    finally:
        process.terminate()
        process.wait(timeout=30)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
