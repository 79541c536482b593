"""Non-interference over the whole API: what organization B reads does not change when
organization A holds data.

Every GET operation of `/openapi.json` (and each value of its enum query parameters) is read as
B's owner before and after A fills its organization with a little of everything; the two
readings must be equal, timestamps and per-request ids aside. A route added later is walked
too, without touching this test. It runs on PostgreSQL (both walls: the ORM filter and
row-level security) and on the SQLite default (the ORM wall alone).
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import PREFIX, Api, Session, make_app, make_client
from tests.receivers import Receiver
from tests.tenancy.populate import populate

pytestmark = pytest.mark.live  # starts processes (CLI, migrations, tools)

ROOT = Path(__file__).resolve().parents[2]
PUBLIC = ("/health", "/auth/")
# Values of required query parameters a client would send.
REQUIRED_QUERY = {"q": "Tower", "format": "csv"}
_HEX = re.compile(r"[0-9a-f]{16,64}")
_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")
# Values that move with the clock or the request, not with the data.
VOLATILE_KEYS = {
    "correlation_id",
    "time_remaining_minutes",
    "elapsed_minutes",
    "cache_status",
    "cache_ttl_seconds",
}


def _normalise(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: "<volatile>" if k in VOLATILE_KEYS else _normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    if isinstance(value, str):
        return _TIMESTAMP.sub("<ts>", value)
    return value


def _enum_values(parameter: dict[str, Any], spec: dict[str, Any]) -> list[Any]:
    schema = parameter.get("schema", {})
    for option in [schema, *schema.get("anyOf", [])]:
        if "$ref" in option:
            option = spec["components"]["schemas"][option["$ref"].split("/")[-1]]
        if "enum" in option:
            return list(option["enum"])
    return []


def _requests(spec: dict[str, Any], ids: dict[str, str]) -> list[tuple[str, dict[str, str]]]:
    """Each GET operation with B's ids in its path, once plainly and once per value of each
    enum query parameter."""
    planned: list[tuple[str, dict[str, str]]] = []
    for path, operations in spec["paths"].items():
        if "get" not in operations or not path.startswith(PREFIX):
            continue
        route = path.removeprefix(PREFIX)
        if route.startswith(PUBLIC):
            continue
        operation = operations["get"]
        url = re.sub(r"{(\w+)}", lambda m: ids.get(m.group(1), "unknown_id"), route)
        base: dict[str, str] = {}
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query" and parameter.get("required"):
                name = parameter["name"]
                base[name] = ids.get(name) or REQUIRED_QUERY.get(name, "x")
        planned.append((url, base))
        for parameter in operation.get("parameters", []):
            if parameter["in"] != "query" or parameter.get("required"):
                continue
            for value in _enum_values(parameter, spec):
                planned.append((url, {**base, parameter["name"]: str(value)}))
    return planned


async def _read_all(api: Api, reader: Session, planned: list[Any]) -> dict[str, Any]:
    readings: dict[str, Any] = {}
    for url, params in planned:
        response = await api.get(url, reader, params=params)
        assert response.status_code < 500, (url, params, response.text)
        kind = response.headers.get("content-type", "")
        if kind.startswith("application/json"):
            body = response.json()
        else:  # a file: a draft statement's PDF carries the hash of its (timestamped) JSON
            body = _HEX.sub("<hex>", response.text)
        readings[f"{url} {sorted(params.items())}"] = (response.status_code, _normalise(body))
    return readings


async def _walk(app: Any) -> None:
    with Receiver() as receiver:
        await _walk_with(app, receiver.url)


async def _walk_with(app: Any, webhook_url: str) -> None:
    async with make_client(app) as http:
        api = Api(http)
        owner_b = await api.owner()
        ids_b = await populate(api, app, owner_b, label="Bravo", webhook_url=webhook_url)
        planned = _requests((await http.get("/openapi.json")).json(), ids_b)
        assert len(planned) > 60, "the walk should cover every GET operation"
        before = await _read_all(api, owner_b, planned)
        owner_a = await api.owner()
        await populate(api, app, owner_a, label="Alpha", webhook_url=webhook_url)
        after = await _read_all(api, owner_b, planned)
    changed = {key: (before[key], after[key]) for key in before if before[key] != after[key]}
    assert not changed, f"B's view changed when A added data: {changed}"


SETTINGS = {"rate_limit_enabled": False, "webhook_allow_private_targets": True}


async def test_b_reads_the_same_whatever_a_holds_on_postgresql() -> None:
    app = make_app(**SETTINGS)
    async with app.router.lifespan_context(app):
        await _walk(app)


@pytest.fixture
async def sqlite_app(tmp_path: Path) -> AsyncIterator[Any]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'tenancy.db'}"
    await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        check=True,
        capture_output=True,
    )
    app = make_app(database_url=url, redis_url=None, **SETTINGS)
    async with app.router.lifespan_context(app):
        yield app


@pytest.mark.sqlite
async def test_b_reads_the_same_whatever_a_holds_on_sqlite(sqlite_app: Any) -> None:
    await _walk(sqlite_app)
