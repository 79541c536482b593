"""The Celery executor, with a real worker process on this machine's Redis."""

import os
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import update

from app.core.clock import utcnow
from app.core.tenancy import system_session
from app.jobs import dispatch
from app.jobs.models import Job
from tests.celery_worker import celery_worker
from tests.helpers import Api, make_app, make_client
from tests.outages.conftest import outage_lasting

pytestmark = pytest.mark.live

ROOT = Path(__file__).resolve().parents[2]
# A Redis database of its own: the per-test FLUSHDB of the suite's database would also wipe
# the broker's queue bindings.
BROKER = os.environ["TEST_CELERY_BROKER_URL"]  # tests/conftest.py: one per worker


WORKER_LOG: list[Path] = []


@pytest.fixture(scope="module")
def worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    log = tmp_path_factory.mktemp("celery") / "worker.log"
    WORKER_LOG[:] = [log]
    redis.Redis.from_url(BROKER).flushdb()  # no message left over from an earlier run
    with celery_worker(log, {"CELERY_BROKER_URL": BROKER}):
        yield


async def _wait_for(api: Api, session: Any, job_id: str, status: str = "succeeded") -> Any:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        job = (await api.get(f"/jobs/{job_id}", session)).json()
        if job["status"] == status:
            return job
        await _sleep(0.2)
    tail = WORKER_LOG[0].read_text()[-3000:] if WORKER_LOG else ""
    raise AssertionError(f"job {job_id} did not reach {status}: {job}\n{tail}")


async def _sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)


async def _recalculate_job(api: Api) -> tuple[Any, str]:
    owner = await api.owner()
    outage, lasting = await outage_lasting(api, owner, 25)  # violated at 15 min, met at 30
    await api.post(f"/outages/{outage['id']}/resolve", owner, json=lasting)
    await api.put(
        "/sla/config/critical",
        owner,
        json={"threshold_minutes": 30, "penalty_per_minute": 100, "reward_base": 750},
    )
    response = await api.post("/sla/recalculate", owner, json={"all": True})
    assert response.status_code == 202
    return owner, response.json()["job_id"]


async def test_a_committed_job_runs_on_the_worker(worker: None) -> None:
    app = make_app(jobs_executor="celery", celery_broker_url=BROKER, rate_limit_enabled=False)
    async with app.router.lifespan_context(app), make_client(app) as http:
        api = Api(http)
        owner, job_id = await _recalculate_job(api)
        job = await _wait_for(api, owner, job_id)
        assert job["attempts"] == 1 and len(job["result"]["updated"]) == 1


async def test_a_duplicated_message_runs_the_job_once(worker: None) -> None:
    app = make_app(
        jobs_executor="celery", celery_broker_url="redis://127.0.0.1:1/0", rate_limit_enabled=False
    )
    async with app.router.lifespan_context(app), make_client(app) as http:
        api = Api(http)
        owner, job_id = await _recalculate_job(api)  # the broker is down: nothing was sent
        client = dispatch.celery_client(
            app.state.settings.model_copy(update={"celery_broker_url": BROKER})
        )
        assert dispatch.send(client, [(job_id, "sla")] * 3) == 3
        job = await _wait_for(api, owner, job_id)
        await _sleep(1.0)  # let the duplicates arrive and find nothing to claim
        job = (await api.get(f"/jobs/{job_id}", owner)).json()
        assert job["status"] == "succeeded" and job["attempts"] == 1, job


async def test_a_job_committed_while_the_broker_is_down_is_dispatched_later(
    worker: None,
) -> None:
    app = make_app(
        jobs_executor="celery", celery_broker_url="redis://127.0.0.1:1/0", rate_limit_enabled=False
    )
    async with app.router.lifespan_context(app), make_client(app) as http:
        api = Api(http)
        started = time.monotonic()
        owner, job_id = await _recalculate_job(api)
        assert time.monotonic() - started < 10  # the API did not hang on the broker
        await _sleep(0.5)
        assert (await api.get(f"/jobs/{job_id}", owner)).json()["status"] == "queued"
        async with system_session(app.state.database, "test inspection") as session:
            await session.execute(update(Job).values(run_at=utcnow() - timedelta(minutes=5)))
            await session.commit()
        settings = app.state.settings.model_copy(update={"celery_broker_url": BROKER})
        sent = await dispatch.redispatch_due(
            app.state.database, dispatch.celery_client(settings), settings
        )
        assert sent == 1
        await _wait_for(api, owner, job_id)
