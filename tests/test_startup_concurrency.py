"""Start-up is idempotent under concurrency: instances starting together on a fresh database
(uvicorn workers, replicas, `apexchainx serve` processes that migrate first) all come up, and
what start-up creates (the local pool account, the demo organization and its month) exists
once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.serving import uvicorn_command
from tests.helpers import sibling_database
from tests.live import free_port

pytestmark = pytest.mark.live

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def fresh_database() -> Iterator[str]:
    url = sibling_database("startup")
    subprocess.run([sys.executable, "tools/recreate_db.py", url], cwd=ROOT, check=True)
    yield url


def _env(url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": "",
        "DEMO_SEED": "true",
        "ENVIRONMENT": "development",
        "LOG_LEVEL": "INFO",
    }


@contextmanager
def _started(args: list[str], env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        args,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # everything it starts is stopped with it
    )
    try:
        yield process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def _wait_ready(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read().decode()[-3000:]  # type: ignore[union-attr]
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise AssertionError("did not become ready")


COUNTS = text(
    "SELECT (SELECT count(*) FROM users WHERE email = 'admin@demo.apexchainx.dev'), "
    "(SELECT count(*) FROM organizations), (SELECT count(*) FROM outages), "
    "(SELECT count(*) FROM ledger_accounts)"
)


async def _counts(url: str) -> tuple[int, ...]:
    engine = create_async_engine(url)  # as the owner: above row-level security
    async with engine.connect() as connection:
        row = (await connection.execute(COUNTS)).one()
    await engine.dispose()
    return tuple(row)


def _created_once(url: str) -> None:
    demo, organizations, seeded, accounts = asyncio.run(_counts(url))
    assert (demo, organizations) == (1, 1)
    assert 20 < seeded < 120, "the demo month is seeded once"
    assert accounts == 3, "the pool and the demo's two wallets, once each"


def test_four_uvicorn_workers_start_together_on_a_fresh_database(fresh_database: str) -> None:
    env = _env(fresh_database)
    subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    port = free_port()
    args = uvicorn_command("127.0.0.1", port, workers=4)
    with _started(args, env) as server:
        _wait_ready(port, server)
        time.sleep(3)  # the other workers finish starting
        assert server.poll() is None
        for _ in range(12):  # requests reach several workers; each answers
            assert httpx.get(f"http://127.0.0.1:{port}/health/ready").status_code == 200
    output = server.stdout.read().decode()  # type: ignore[union-attr]
    assert output.count("Application startup complete") == 4, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    _created_once(fresh_database)


def test_two_serve_processes_migrate_and_start_together(fresh_database: str) -> None:
    env = _env(fresh_database)
    ports = [free_port(), free_port()]
    serve = [sys.executable, "-c", "from app.cli import main; main()", "serve", "--port"]
    with (
        _started([*serve, str(ports[0])], env) as one,
        _started([*serve, str(ports[1])], env) as two,
    ):
        _wait_ready(ports[0], one)
        _wait_ready(ports[1], two)
    _created_once(fresh_database)
