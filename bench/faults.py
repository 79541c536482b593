"""Fault ingestion: throughput with correlation on (wrk at 8 and 32 connections), and a burst
of 10 000 identical faults from one resource folded into one.

    python -m bench.faults          (make bench runs it too)

Results print and go to bench/results/faults.json; docs/performance.md records them.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx

from bench.run import ROOT, login, prepare_database, start_server, wrk

BURST = 10_000
FAULT = {
    "resource_id": "dev_burst",
    "microservice_id": "bench",
    "type": "link-flap",
    "severity": "WARNING",
    "message": "link flapping",
    "cause": "carrier lost and regained",
    "resource_ancestry_path": "region_1|site_burst|dev_burst",
}


async def burst(base: str, token: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    limit = asyncio.Semaphore(32)
    codes: dict[int, int] = {}
    async with httpx.AsyncClient(base_url=base + "/api/v1", headers=headers, timeout=60) as http:

        async def one() -> None:
            async with limit:
                status = (await http.post("/faults", json=FAULT)).status_code
                codes[status] = codes.get(status, 0) + 1

        started = time.monotonic()
        await asyncio.gather(*(one() for _ in range(BURST)))
        seconds = time.monotonic() - started
        listed = (await http.get("/faults", params={"resource_id": "dev_burst"})).json()
    return {
        "requests": BURST,
        "seconds": round(seconds, 2),
        "per_second": round(BURST / seconds, 1),
        "status_codes": codes,
        "faults_stored": len(listed["results"]),
        "occurrences": listed["results"][0]["occurrences"],
    }


def main() -> None:
    prepare_database()
    process, base = start_server(2)
    try:
        token = login(base, "faults@example.com")
        httpx.post(
            base + "/api/v1/outages",
            headers={"Authorization": f"Bearer {token}"},
            json={"site_name": "Busy", "site_id": "site_busy", "severity": "high"},
            timeout=30,
        ).raise_for_status()
        url = base + "/api/v1/faults"
        results: dict[str, Any] = {
            "ingest": [wrk(url, token, c, 15, "post_fault.lua") for c in (8, 32)],
            "burst_one_resource": asyncio.run(burst(base, token)),
        }
    finally:
        process.terminate()
        process.wait(timeout=30)
    print(json.dumps(results, indent=2))
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "faults.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
