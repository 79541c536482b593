"""The suite's migrated databases, built once per run by the real Alembic migrations.

A run used to migrate a database from nothing some twenty-five times: one per xdist worker,
one per fuzzing shard, one per live server on SQLite... each an interpreter that imports the
application and runs every migration (about 2 s of CPU on this project's machine). Where the
migrations themselves are not the subject, a test now starts from a copy of a template the
run built first: a PostgreSQL `CREATE DATABASE ... TEMPLATE` (a file copy inside the server)
or a copy of a migrated SQLite file. What tests the migrations (tests/test_migrations.py, the
start-up races, the command line, the embedded default's own start) still runs them.

The process that starts the run builds both (`build`, from `pytest_sessionstart`, before
pytest-xdist starts its workers); the workers find them ready.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.helpers import sibling_database
from tests.live import ROOT
from tools.recreate_db import recreate

# Where the run's templates are: set by `build`, inherited by the workers started after it
# (each worker renames its own TEST_DATABASE_URL, so a worker cannot derive the run's name).
POSTGRES_TEMPLATE_ENV = "TEST_POSTGRES_TEMPLATE"
SQLITE_TEMPLATE_ENV = "TEST_SQLITE_TEMPLATE"


def _alembic(database_url: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def build(folder: Path) -> None:
    """Both templates, migrated side by side (two cores, two interpreters)."""
    sqlite = folder / "template.db"
    sqlite.unlink(missing_ok=True)
    template = sibling_database("template")
    asyncio.run(recreate(template))
    runs = [_alembic(template), _alembic(f"sqlite+aiosqlite:///{sqlite}")]
    for run in runs:
        output, _ = run.communicate()
        if run.returncode != 0:
            raise RuntimeError("migrating a template failed:\n" + output.decode()[-4000:])
    os.environ[POSTGRES_TEMPLATE_ENV] = template
    os.environ[SQLITE_TEMPLATE_ENV] = str(sqlite)


def clone_postgres(database_url: str) -> str:
    """`database_url`'s database, dropped if it exists and made again from the template."""
    asyncio.run(recreate(database_url, os.environ[POSTGRES_TEMPLATE_ENV]))
    return database_url


def copy_sqlite(folder: Path, name: str = "apexchainx.db") -> str:
    """A migrated SQLite database in `folder`, as a URL."""
    target = folder / name
    shutil.copyfile(os.environ[SQLITE_TEMPLATE_ENV], target)
    return f"sqlite+aiosqlite:///{target}"
