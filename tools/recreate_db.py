"""Drop and create a PostgreSQL database: `python tools/recreate_db.py URL`.

Used by `make` targets and the test suite to start from an empty schema, or (`template`, the
suite's tests/templates.py) from a copy of a migrated one.
"""

from __future__ import annotations

import asyncio
import sys

import asyncpg
from sqlalchemy.engine import make_url


async def recreate(url: str, template: str | None = None) -> None:
    target = make_url(url)
    admin = target.set(drivername="postgresql", database="postgres")
    connection = await asyncpg.connect(
        admin.render_as_string(hide_password=False).replace("postgresql://", "postgres://", 1)
    )
    try:
        name = target.database
        if not name or not name.replace("_", "").isalnum():
            raise SystemExit(f"refusing odd database name {name!r}")
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        source = f' TEMPLATE "{make_url(template).database}"' if template else ""
        await connection.execute(f'CREATE DATABASE "{name}"{source}')
    finally:
        await connection.close()


if __name__ == "__main__":
    asyncio.run(recreate(sys.argv[1]))
