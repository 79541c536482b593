"""The jobs table as an outbox, the inline executor, retries and dead jobs."""

import asyncio
import os
from datetime import timedelta
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import create_async_engine

from app.core.clock import utcnow
from app.core.tenancy import system_session
from app.jobs import service
from app.jobs.backoff import retry_delay_seconds
from app.jobs.models import Job
from app.jobs.registry import job_handler
from tests.helpers import Api

CALLS: list[str] = []


@job_handler("test.record")
async def _record(session: Any, job: Job) -> dict[str, Any]:
    CALLS.append(job.payload["value"])
    return {"recorded": job.payload["value"]}


@job_handler("test.fail", max_attempts=3)
async def _fail(session: Any, job: Job) -> None:
    raise RuntimeError("receiver exploded")


@job_handler("test.slow")
async def _slow(session: Any, job: Job) -> dict[str, Any]:
    await asyncio.sleep(float(job.payload["value"]))
    CALLS.append("slow")
    return {}


@job_handler("test.cut_off")
async def _cut_off(session: Any, job: Job) -> None:
    """Fails the way a handler does when the database drops every connection under it (as a
    restart would; done as the superuser the suite connects with)."""
    own = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
    engine = create_async_engine(os.environ["TEST_DATABASE_URL"])
    async with engine.connect() as connection:
        await connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
        # Termination is asynchronous: the handler's next statement must meet a closed
        # connection, not race the server's goodbye on the socket (asyncpg then reports a
        # protocol state, "another operation is in progress", instead of the lost connection).
        gone = text("SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = :pid")
        for _ in range(100):
            await connection.execute(text("SELECT pg_stat_clear_snapshot()"))  # a fresh look
            if (await connection.execute(gone, {"pid": own})).scalar_one():
                break
            await asyncio.sleep(0.05)
    await engine.dispose()
    await asyncio.sleep(0.2)  # the goodbye reaches the handler's connection
    await session.execute(text("SELECT 1"))


async def _enqueue(app: Any, kind: str, value: str, *, commit: bool, org: str | None) -> None:
    async with system_session(app.state.database, "test inspection") as session:
        service.enqueue(session, kind, {"value": value}, organization_id=org)
        if commit:
            await session.commit()
        else:
            await session.rollback()


async def test_a_job_exists_only_if_its_transaction_commits(app: Any) -> None:
    CALLS.clear()
    await _enqueue(app, "test.record", "kept", commit=True, org=None)
    await _enqueue(app, "test.record", "rolled-back", commit=False, org=None)
    ran = await app.state.executor.drain()
    assert ran == 1 and CALLS == ["kept"]


async def test_commit_wakes_the_executor(app: Any) -> None:
    executor = app.state.executor
    executor._wake.clear()
    await _enqueue(app, "test.record", "wake", commit=True, org=None)
    assert executor._wake.is_set()


async def test_a_duplicated_dispatch_runs_the_job_once(app: Any) -> None:
    CALLS.clear()
    await _enqueue(app, "test.record", "once", commit=True, org=None)
    async with system_session(app.state.database, "test inspection") as session:
        (job_id,) = await service.due_job_ids(session)
    from app.jobs.runner import run_job

    results = [
        await run_job(app.state.database, job_id, worker="w", lease_seconds=60) for _ in range(3)
    ]
    assert results == [True, False, False] and CALLS == ["once"]


async def test_failures_retry_with_backoff_then_die_visible_at_get_jobs(app: Any, api: Api) -> None:
    owner = await api.owner()
    await _enqueue(app, "test.fail", "x", commit=True, org=owner.organization_id)
    for attempt in range(1, 4):
        await app.state.executor.drain()
        async with system_session(app.state.database, "test inspection") as session:
            job = (await session.execute(select(Job))).scalar_one()
            assert job.attempts == attempt
            if attempt < 3:
                assert job.status == "queued" and job.run_at > utcnow()
                await session.execute(update(Job).values(run_at=utcnow()))  # skip the wait
                await session.commit()
    listed = (await api.get("/jobs", owner, params={"status": "dead"})).json()
    assert listed["total"] == 1
    dead = listed["results"][0]
    assert dead["attempts"] == 3 and "receiver exploded" in dead["last_error"]
    assert (await api.get(f"/jobs/{dead['id']}", owner)).json()["status"] == "dead"


async def test_an_expired_lease_is_claimed_again(app: Any) -> None:
    CALLS.clear()
    await _enqueue(app, "test.record", "lease", commit=True, org=None)
    async with system_session(app.state.database, "test inspection") as session:
        (job_id,) = await service.due_job_ids(session)
        claimed = await service.claim(session, job_id, worker="dead-worker", lease_seconds=60)
        assert claimed is not None
        await session.execute(update(Job).values(lease_expires_at=utcnow() - timedelta(1)))
        await session.commit()
    assert await app.state.executor.drain() == 1 and CALLS == ["lease"]


async def test_jobs_of_another_organization_are_not_found(app: Any, api: Api) -> None:
    owner, other = await api.owner(), await api.owner()
    await _enqueue(app, "test.record", "mine", commit=True, org=owner.organization_id)
    mine = (await api.get("/jobs", owner)).json()["results"]
    assert len(mine) == 1
    assert (await api.get("/jobs", other)).json()["total"] == 0
    assert (await api.get(f"/jobs/{mine[0]['id']}", other)).status_code == 404


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    import random

    rng = random.Random(7)
    for attempt in range(1, 15):
        ceiling = min(3600.0, 5.0 * 2 ** (attempt - 1))
        delays = [retry_delay_seconds(attempt, rng=rng) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1


async def test_a_running_job_keeps_its_lease_past_the_lease_time(app: Any) -> None:
    """The heartbeat renews a short lease while the handler works: nobody else may claim it."""
    from app.jobs.runner import run_job

    CALLS.clear()
    await _enqueue(app, "test.slow", "4", commit=True, org=None)
    async with system_session(app.state.database, "test inspection") as session:
        (job_id,) = await service.due_job_ids(session)
    running = asyncio.create_task(
        run_job(app.state.database, job_id, worker="first", lease_seconds=3)
    )
    await asyncio.sleep(3.5)  # past the first lease: only the heartbeat keeps it
    assert not await run_job(app.state.database, job_id, worker="second", lease_seconds=3)
    assert await running and CALLS == ["slow"]


async def test_a_job_cut_off_by_dropped_connections_is_queued_again_at_once(app: Any) -> None:
    """Its outcome is written on a fresh connection, not left to a lapsing lease."""
    from app.jobs.runner import run_job

    await _enqueue(app, "test.cut_off", "x", commit=True, org=None)
    async with system_session(app.state.database, "test inspection") as session:
        (job_id,) = await service.due_job_ids(session)
    assert await run_job(app.state.database, job_id, worker="w", lease_seconds=600)
    async with system_session(app.state.database, "test inspection") as session:
        job = (await session.execute(select(Job))).scalar_one()
    assert job.status == "queued" and job.lease_expires_at is None
    assert (
        "terminat" in (job.last_error or "").lower()
        or "connection" in (job.last_error or "").lower()
    )
