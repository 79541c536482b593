"""Migrations keep existing data. An organization with a changed policy, a resolved outage
and its payment, written at head, survives a downgrade past the contracts migration and an
upgrade back: it gets a default contract equal to its current policies (their history
included), and its outages, results and payments are settled under it (issue 23)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import Api, make_app, make_client, sibling_database
from tests.outages.conftest import outage_lasting

pytestmark = pytest.mark.live  # starts processes (CLI, migrations, tools)

ROOT = Path(__file__).resolve().parent.parent
BEFORE_CONTRACTS = "0016_windows_and_pauses"
CHANGED = {"threshold_minutes": 20, "penalty_per_minute": 50, "reward_base": 900}


def _alembic(url: str, *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "alembic", *args],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()[-3000:]


@pytest.fixture(params=["postgresql", "sqlite"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of its own, at head: PostgreSQL, and the embedded default's SQLite file."""
    if request.param == "sqlite":
        rendered = f"sqlite+aiosqlite:///{tmp_path / 'upgrade.db'}"
    else:
        rendered = sibling_database("migrations")
        recreate = [sys.executable, str(ROOT / "tools" / "recreate_db.py"), rendered]
        subprocess.run(recreate, check=True)
    _alembic(rendered, "upgrade", "head")
    yield rendered


async def _with_app(url: str, work: Any) -> Any:
    extra = {"redis_url": None} if url.startswith("sqlite") else {}
    app = make_app(database_url=url, rate_limit_enabled=False, **extra)
    async with app.router.lifespan_context(app), make_client(app) as http:
        return await work(Api(http))


async def test_an_organization_keeps_its_policies_as_its_default_contract(database: str) -> None:
    async def before(api: Api) -> dict[str, Any]:
        owner = await api.owner()
        assert (await api.put("/sla/config/critical", owner, json=CHANGED)).status_code == 200
        outage, lasting = await outage_lasting(api, owner, 25)
        resolved = await api.post(f"/outages/{outage['id']}/resolve", owner, json=lasting)
        assert resolved.status_code == 200, resolved.text
        return {
            "email": owner.email,
            "outage": resolved.json(),
            "config": (await api.get("/sla/config", owner)).json(),
        }

    seen = await _with_app(database, before)
    _alembic(database, "downgrade", BEFORE_CONTRACTS)
    _alembic(database, "upgrade", "head")

    async def after(api: Api) -> None:
        owner = await api.login(seen["email"])
        config = (await api.get("/sla/config", owner)).json()
        assert config == seen["config"]  # terms, versions, ids: all kept
        (default,) = (await api.get("/sla/contracts", owner)).json()["results"]
        assert default["is_default"] and default["version"] == 2
        assert default["terms"]["critical"]["threshold_minutes"] == 20
        versions = (await api.get(f"/sla/contracts/{default['id']}/versions", owner)).json()
        assert len(versions) == 5  # four first versions and the change
        outage = (await api.get(f"/outages/{seen['outage']['id']}", owner)).json()
        assert outage["contract_id"] == default["id"]
        assert outage["sla_result"]["contract_id"] == default["id"]
        assert outage["sla_result"]["counterparty_id"] == default["counterparty_id"]
        assert outage["payment"]["counterparty_id"] == default["counterparty_id"]
        # And it works on: a new outage, under the same contract and terms.
        fresh, lasting = await outage_lasting(api, owner, 25)
        assert fresh["contract_id"] == default["id"]
        resolved = await api.post(f"/outages/{fresh['id']}/resolve", owner, json=lasting)
        assert resolved.json()["sla_result"]["amount"] == 250.0  # (25 - 20) x 50

    await _with_app(database, after)
