"""The suite runs against this machine's real PostgreSQL and Redis.

The schema is built once per run by the real Alembic migrations; each test starts from empty
tables and an empty Redis database.
"""

from __future__ import annotations

import gc
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

ROOT = Path(__file__).resolve().parent.parent
# A worker holds the application and every test module: at the default thresholds collecting
# them spent a quarter of the collection's CPU in the cycle collector (6.8 s, 5.2 s spaced). A
# started application sets the same (app/core/heap.py); this spaces collection too.
gc.set_threshold(20_000, 20, 20)
# Under pytest-xdist each worker (gw0, gw1, ...) has a database and a Redis database of its
# own, named after the suite's: what one worker writes, truncates or kills, no other sees.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


def _for_worker(database_url: str, redis_url: str, broker_url: str) -> tuple[str, str, str]:
    if not WORKER:
        return database_url, redis_url, broker_url
    number = int(WORKER.removeprefix("gw"))
    database = make_url(database_url)
    database = database.set(database=f"{database.database}_{WORKER}")
    return (
        database.render_as_string(hide_password=False),
        _redis_below(redis_url, number),
        _redis_below(broker_url, number),
    )


def _redis_below(url: str, number: int) -> str:
    """The Redis database `number` below the URL's: one per worker."""
    base, _, index = url.rpartition("/")
    return f"{base}/{int(index or 0) - number}"


# Workers inherit the controller's environment: each derives its own from the suite's values.
TEST_DATABASE_URL, TEST_REDIS_URL, TEST_CELERY_BROKER_URL = _for_worker(
    os.environ.get(
        "TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/apexchainx_test"
    ),
    os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"),
    # The Celery tests' broker: apart from the apps' Redis databases.
    os.environ.get("TEST_CELERY_BROKER_URL", "redis://127.0.0.1:6379/7"),
)
os.environ.update(
    {
        "TEST_DATABASE_URL": TEST_DATABASE_URL,
        "TEST_REDIS_URL": TEST_REDIS_URL,
        "TEST_CELERY_BROKER_URL": TEST_CELERY_BROKER_URL,
    }
)

# Settings every app in the suite reads from the environment. Cheap password hashing keeps the
# suite fast; the production parameters are the defaults in app/config.py.
os.environ.update(
    {
        "ENVIRONMENT": "test",
        "DATABASE_URL": TEST_DATABASE_URL,
        "REDIS_URL": TEST_REDIS_URL,
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_COST_KIB": "1024",
        "ARGON2_PARALLELISM": "1",
        "LOG_LEVEL": "WARNING",
    }
)

from app.main import initialise  # noqa: E402
from tests import templates  # noqa: E402
from tests.helpers import Api, Session, make_app, make_client  # noqa: E402

TABLES_KEPT = {"alembic_version"}
# The Horizon and RPC stand-ins (and apps paying through them), for every package that needs them.
pytest_plugins = ["tests.stellar.fixtures"]


# What every test has (the suite's database and its emptying) and pytest's own helpers: a test
# that asks for nothing more builds no application, starts no process and reads no ledger.
PLAIN_FIXTURES = frozenset(
    {"migrated_database", "table_names", "emptier", "clean_state", "event_loop_policy"}
    | {"request", "tmp_path", "tmp_path_factory", "monkeypatch", "capsys", "caplog"}
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """`unit`: a test that asks for no fixture beyond the plain ones (pure functions, readers,
    renderers). Derived from what it asks for, so a new test is classed without anyone
    remembering to; a test that starts a process itself is marked `live` in its file."""
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        callspec = getattr(item, "callspec", None)
        names -= set(callspec.params) if callspec else set()  # parameters, not fixtures
        if names <= PLAIN_FIXTURES and item.get_closest_marker("live") is None:
            item.add_marker(pytest.mark.unit)


def pytest_sessionstart(session: pytest.Session) -> None:
    """The run's templates (tests/templates.py), built by the process that starts the run:
    under pytest-xdist, before it starts its workers (its own `pytest_sessionstart` runs last)."""
    if not hasattr(session.config, "workerinput"):
        folder = Path(tempfile.mkdtemp(prefix="apexchainx-templates-"))
        session.config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))
        templates.build(folder)


@pytest.fixture(scope="session", autouse=True)
def migrated_database() -> str:
    return templates.clone_postgres(TEST_DATABASE_URL)


@pytest.fixture(scope="session")
async def table_names(migrated_database: str) -> list[str]:
    engine = create_async_engine(migrated_database)
    async with engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        )
        names = [name for (name,) in rows if name not in TABLES_KEPT]
    await engine.dispose()
    return names


@pytest.fixture(scope="session")
async def emptier(table_names: list[str]) -> AsyncIterator[Callable[[], Awaitable[None]]]:
    """Empties every table in one round trip. DELETE with triggers and foreign-key checks off
    (`session_replication_role = replica`) costs ~20 ms for the suite's few rows where a
    TRUNCATE of every table cost ~450 ms: a test's own start, not a fifth of the suite."""
    engine = create_async_engine(TEST_DATABASE_URL, pool_size=1, pool_pre_ping=True)
    deletes = "".join(f"DELETE FROM {name}; " for name in table_names)
    block = text(
        "DO $$ BEGIN PERFORM set_config('session_replication_role', 'replica', true); "
        f"{deletes}END $$"
    )
    from redis.asyncio import Redis

    redis = Redis.from_url(TEST_REDIS_URL)

    async def empty() -> None:
        async with engine.begin() as connection:
            await connection.execute(block)
        await redis.flushdb()

    yield empty
    await redis.aclose()
    await engine.dispose()


@pytest.fixture(autouse=True)
async def clean_state(emptier: Callable[[], Awaitable[None]]) -> AsyncIterator[None]:
    await emptier()
    yield


class WorkerApps:
    """The applications a worker keeps, one per set of settings, as one process serves request
    after request. A new application per test cost each test its start, its routes' first
    build (FastAPI builds an included router's routes on its first request) and its engine's
    first compilation of every statement: about a third of the suite's time."""

    def __init__(self, stack: AsyncExitStack) -> None:
        self._stack = stack
        self._started: dict[tuple[tuple[str, Any], ...], Any] = {}

    @asynccontextmanager
    async def serve(self, **overrides: Any) -> AsyncIterator[Any]:
        """The application for these settings, on tables just emptied: what its start makes
        sure of is made sure of again; the test's end returns it to a restart's state (its
        audit chainers finished, every connection closed: a test may have killed backends or
        left a connection in a state no request would)."""
        key = tuple(sorted(overrides.items()))
        application = self._started.get(key)
        if application is None:
            application = make_app(**overrides)
            await self._stack.enter_async_context(application.router.lifespan_context(application))
            self._started[key] = application
        else:
            await initialise(application.state.database, application.state.settings)
        try:
            yield application
        finally:
            await application.state.database.dispose()


@pytest.fixture(scope="session")
async def worker_apps() -> AsyncIterator[WorkerApps]:
    async with AsyncExitStack() as stack:
        yield WorkerApps(stack)


@pytest.fixture
async def app(worker_apps: WorkerApps) -> AsyncIterator[Any]:
    """The worker's application with the default settings. A test that reads a process's own
    counters (metrics) makes its own with `make_app`."""
    async with worker_apps.serve() as application:
        yield application


@pytest.fixture
async def client(app: Any) -> AsyncIterator[Any]:
    async with make_client(app) as http:
        yield http


@pytest.fixture
def api(client: Any) -> Api:
    return Api(client)


@pytest.fixture
async def owner(api: Api) -> Session:
    """A new organization's owner, signed in."""
    return await api.owner()
