"""Payouts on real Celery workers (Redis broker) against the Horizon stand-in: exactly once,
whatever the broker and the workers do."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy.exc import DBAPIError

from app.jobs import dispatch
from tests.celery_worker import celery_worker, start_worker, stop_worker
from tests.helpers import Api, Session, make_app, make_client
from tests.payments.conftest import payment_of, resolve
from tests.stellar.fixtures import Standin, with_wallets

pytestmark = pytest.mark.live

BROKER = os.environ["TEST_CELERY_BROKER_URL"]  # tests/conftest.py: one per worker
DEAD_BROKER = "redis://127.0.0.1:1/0"


# Every fault test runs with single payouts and with batches (record 0013).
batch_sizes = pytest.mark.parametrize("batch", [1, 100], ids=["single", "batched"])


def _worker_env(standin: Standin, batch: int) -> dict[str, str]:
    # A short lease: a killed worker's job is taken over within seconds.
    return {
        "CELERY_BROKER_URL": BROKER,
        "JOBS_LEASE_SECONDS": "5",
        **standin.env(payout_batch_size=batch),
    }


def _app(standin: Standin, batch: int, broker: str = BROKER) -> Any:
    redis.Redis.from_url(BROKER).flushdb()
    return make_app(
        jobs_executor="celery",
        celery_broker_url=broker,
        rate_limit_enabled=False,
        jobs_redispatch_after_seconds=1,
        **standin.settings(payout_batch_size=batch),
    )


async def _confirmed(
    api: Api, owner: Session, outage_id: str, *, beat: Any = None
) -> dict[str, Any]:
    """Waits for the payout; `beat` (when given) is run every second, as Celery beat would. A
    503 (a connection the database dropped, found dead by this request) is read again."""
    deadline = time.monotonic() + 60
    payment: dict[str, Any] = {}
    while time.monotonic() < deadline:
        if (await api.get(f"/outages/{outage_id}", owner)).status_code != 503:
            payment = await payment_of(api, owner, outage_id)
            if payment["status"] == "confirmed":
                return payment
        if beat is not None:
            with contextlib.suppress(DBAPIError):  # the same, for beat's own connection
                await beat()
        await asyncio.sleep(1)
    raise AssertionError(f"payment not confirmed: {payment}")


@batch_sizes
async def test_a_resolve_leads_to_exactly_one_confirmed_payout_and_duplicates_pay_once(
    standin: Standin, tmp_path: Path, batch: int
) -> None:
    app = _app(standin, batch)
    with celery_worker(tmp_path / "worker.log", _worker_env(standin, batch)):
        async with app.router.lifespan_context(app), make_client(app) as http:
            api = Api(http)
            owner = await with_wallets(api, standin)
            outage = await resolve(api, owner, mttr=5)
            jobs = (await api.get("/jobs", owner, params={"kind": "payments.execute"})).json()
            job_id = jobs["results"][0]["id"]
            # The same message delivered three more times.
            assert (
                dispatch.send(dispatch.celery_client(app.state.settings), [(job_id, "payouts")] * 3)
                == 3
            )
            payment = await _confirmed(api, owner, outage["id"])
            await asyncio.sleep(1.5)  # the duplicates arrive and find nothing to claim
            job = (await api.get(f"/jobs/{job_id}", owner)).json()
            assert job["status"] == "succeeded" and job["attempts"] == 1
    assert [t["hash"] for t in standin.net.payments_landed()] == [payment["transaction_hash"]]
    assert standin.net.usdc_balance(standin.ops_team.public_key) == Decimal(1500)


@batch_sizes
async def test_a_worker_killed_after_submitting_leads_to_one_payment(
    standin: Standin, tmp_path: Path, batch: int
) -> None:
    app = _app(standin, batch)
    # The stand-in applies the payment, then holds its answer: the worker is killed while it
    # waits, after submission and before recording anything.
    standin.net.delay_after_apply = 30
    first = start_worker(tmp_path / "first.log", _worker_env(standin, batch), "doomed")
    try:
        async with app.router.lifespan_context(app), make_client(app) as http:
            api = Api(http)
            owner = await with_wallets(api, standin)
            outage = await resolve(api, owner, mttr=12)
            assert await asyncio.to_thread(standin.net.applied_event.wait, 30)
            os.kill(first.pid, signal.SIGKILL)
            first.wait(timeout=10)
            standin.net.delay_after_apply = 0
            assert (await payment_of(api, owner, outage["id"]))["status"] == "pending"

            async def beat() -> None:
                await dispatch.redispatch_due(
                    app.state.database,
                    dispatch.celery_client(app.state.settings),
                    app.state.settings,
                )

            with celery_worker(tmp_path / "second.log", _worker_env(standin, batch), "rescuer"):
                payment = await _confirmed(api, owner, outage["id"], beat=beat)
    finally:
        if first.poll() is None:
            stop_worker(first)
    assert "found" in [a["outcome"] for a in payment["attempt_log"]]
    assert len(standin.net.payments_landed()) == 1
    assert standin.net.usdc_balance(standin.ops_team.public_key) == Decimal(750)


@batch_sizes
async def test_redis_down_at_commit_loses_no_payout(
    standin: Standin, tmp_path: Path, batch: int
) -> None:
    app = _app(standin, batch, broker=DEAD_BROKER)
    with celery_worker(tmp_path / "worker.log", _worker_env(standin, batch)):
        async with app.router.lifespan_context(app), make_client(app) as http:
            api = Api(http)
            owner = await with_wallets(api, standin)
            outage = await resolve(api, owner, mttr=12)  # committed; the broker is unreachable
            assert (await payment_of(api, owner, outage["id"]))["status"] == "pending"
            settings = app.state.settings.model_copy(update={"celery_broker_url": BROKER})

            async def beat() -> None:  # the sweep, once Redis is back
                await dispatch.redispatch_due(
                    app.state.database, dispatch.celery_client(settings), settings
                )

            await _confirmed(api, owner, outage["id"], beat=beat)
    assert len(standin.net.payments_landed()) == 1


@batch_sizes
async def test_a_payout_cut_off_by_the_database_going_away_recovers_in_seconds(
    standin: Standin, tmp_path: Path, batch: int
) -> None:
    """The database drops every connection and refuses new ones for a few seconds while the
    worker waits for the ledger's answer, so the worker can neither record the payment nor
    the failed attempt. The job's short lease (no longer renewed) lapses and beat hands it to
    a worker again: it finds the payment on the ledger by its hash and records it, paid once,
    within seconds rather than after a long fixed lease."""
    app = _app(standin, batch)
    standin.net.delay_after_apply = 2
    env = {k: v for k, v in _worker_env(standin, batch).items() if k != "JOBS_LEASE_SECONDS"}
    with celery_worker(tmp_path / "worker.log", env):  # the default lease
        async with app.router.lifespan_context(app), make_client(app) as http:
            api = Api(http)
            owner = await with_wallets(api, standin)
            outage = await resolve(api, owner, mttr=12)
            assert await asyncio.to_thread(standin.net.applied_event.wait, 30)
            async with _database_away(app.state.settings.database_url, seconds=6):
                standin.net.delay_after_apply = 0
            started = time.monotonic()

            async def beat() -> None:
                await dispatch.redispatch_due(
                    app.state.database,
                    dispatch.celery_client(app.state.settings),
                    app.state.settings,
                )

            payment = await _confirmed(api, owner, outage["id"], beat=beat)
            recovered_in = time.monotonic() - started
    assert len(standin.net.payments_landed()) == 1
    assert standin.net.usdc_balance(standin.ops_team.public_key) == Decimal(750)
    assert payment["transaction_hash"] == standin.net.payments_landed()[0]["hash"]
    # Far sooner than the 300 s lease it used to wait for (the bound is generous on purpose).
    assert recovered_in < 45, recovered_in


@contextlib.asynccontextmanager
async def _database_away(url: str, *, seconds: float) -> AsyncIterator[None]:
    """As a restart would: every connection dropped, new ones refused for `seconds` (done as
    the superuser the suite connects with, from the maintenance database)."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url
    from sqlalchemy.ext.asyncio import create_async_engine

    name = make_url(url).database
    engine = create_async_engine(
        make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    try:
        async with engine.connect() as connection:
            await connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            await connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
        yield
        await asyncio.sleep(seconds)
    finally:
        async with engine.connect() as connection:
            await connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        await engine.dispose()
