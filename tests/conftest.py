"""The suite runs against this machine's real PostgreSQL and Redis.

The schema is built once per run by the real Alembic migrations; each test starts from empty
tables and an empty Redis database.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

ROOT = Path(__file__).resolve().parent.parent
TEST_DATABASE_URL = os.environ.setdefault(
    "TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/apexchainx_test"
)
TEST_REDIS_URL = os.environ.setdefault("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

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

from tests.helpers import Api, make_app, make_client  # noqa: E402

TABLES_KEPT = {"alembic_version"}
# The Horizon and RPC stand-ins (and apps paying through them), for every package that needs them.
pytest_plugins = ["tests.stellar.fixtures"]


def _migrate(database_url: str) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "tools" / "recreate_db.py"), database_url], check=True
    )
    subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        check=True,
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
    )


@pytest.fixture(scope="session", autouse=True)
def migrated_database() -> str:
    _migrate(TEST_DATABASE_URL)
    return TEST_DATABASE_URL


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


@pytest.fixture(autouse=True)
async def clean_state(table_names: list[str]) -> AsyncIterator[None]:
    engine = create_async_engine(TEST_DATABASE_URL)
    async with engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {', '.join(table_names)} CASCADE"))
    await engine.dispose()
    from redis.asyncio import Redis

    redis = Redis.from_url(TEST_REDIS_URL)
    await redis.flushdb()
    await redis.aclose()
    yield


@pytest.fixture
async def app() -> AsyncIterator[Any]:
    application = make_app()
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: Any) -> AsyncIterator[Any]:
    async with make_client(app) as http:
        yield http


@pytest.fixture
def api(client: Any) -> Api:
    return Api(client)
