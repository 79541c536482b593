import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from app.core.tenancy import system_session
from app.demo import DEMO_EMAIL, seed_demo, seed_demo_approver
from app.identity.models import Organization
from tests.helpers import Api, make_app, make_client
from tests.outages.conftest import outage_lasting

pytestmark = pytest.mark.live  # starts processes (CLI, migrations, tools)

ROOT = Path(__file__).resolve().parents[2]


async def test_demo_seed_creates_one_organization_and_renews_the_password(
    app: Any, api: Api
) -> None:
    email, first = await seed_demo(app.state.database)
    _, second = await seed_demo(app.state.database)
    approver, one = await seed_demo_approver(app.state.database)
    _, two = await seed_demo_approver(app.state.database)
    assert one != two  # a new password at every start, for the second admin too
    token = await api.login(approver, two)
    assert token.user["role"] == "admin"
    assert token.organization_id == (await api.login(email, second)).organization_id
    assert email == DEMO_EMAIL and first != second
    async with system_session(app.state.database, "test inspection") as session:
        count = await session.execute(select(func.count()).select_from(Organization))
        assert count.scalar_one() == 1
    old = await api.client.post("/api/v1/auth/login", json={"email": email, "password": first})
    assert old.status_code == 401
    session = await api.login(email, second)
    assert session.user["role"] == "owner"


async def test_the_demo_on_sqlite_has_wallets_and_a_resolve_pays(tmp_path: Path) -> None:
    """`make run`: the SQLite file, the demo seed at every start, the local ledger."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"
    await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        check=True,
        capture_output=True,
    )
    app = make_app(database_url=url, redis_url=None, demo_seed=True)
    async with app.router.lifespan_context(app):
        email, password = await seed_demo(app.state.database)  # a second start
        async with make_client(app) as http:
            api = Api(http)
            owner = await api.login(email, password)
            for entity in ("operator", "ops_team"):
                wallet = (await api.get(f"/wallets/{entity}", owner)).json()
                assert wallet["funded"] is True and wallet["trustline_ready"] is True
            history = (await api.get("/outages", owner)).json()
            assert history["total"] > 20  # a month of history was seeded on first start
            outage, lasting = await outage_lasting(api, owner, 5)
            await api.post(f"/outages/{outage['id']}/resolve", owner, json=lasting)
            await app.state.executor.drain()
            detail = (await api.get(f"/outages/{outage['id']}", owner)).json()
            assert detail["payment"]["status"] == "confirmed"
            confirmed = (await api.get("/payments", owner, params={"status": "confirmed"})).json()
            assert confirmed["total"] > 1 and confirmed["summary"]["total_rewards"] > 0
