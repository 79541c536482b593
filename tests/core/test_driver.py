"""A hot read on the driver's prepared statement (app/core/driver.py) returns what SQLAlchemy
returns for the same statement: the same rows, money as the same exact decimals, time filters
bound the same way."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from app.core import driver
from app.core.clock import utcnow
from app.core.errors import is_dependency_unavailable
from app.core.tenancy import tenant_session
from app.lifecycle import queries
from app.lifecycle.queries import OutageFilters
from tests.conftest import TEST_DATABASE_URL
from tests.helpers import Api
from tests.payments.conftest import resolve


async def test_a_page_read_on_the_driver_equals_the_same_read_through_sqlalchemy(
    app: Any, api: Api
) -> None:
    owner = await api.owner()
    await resolve(api, owner, mttr=5)  # a result with a reward: a money column
    await resolve(api, owner, mttr=40)  # a penalty
    for n in range(3):
        body = {"site_name": f"Tower {n}", "severity": "high", "description": "fibre cut"}
        assert (await api.post("/outages", owner, json=body)).status_code == 201
    now = utcnow()
    shapes = [
        OutageFilters(),
        OutageFilters(severity="critical"),
        OutageFilters(start=now - timedelta(hours=2), end=now + timedelta(minutes=1)),
    ]
    async with tenant_session(app.state.database, owner.organization_id) as session:
        connection = await session.connection()
        for filters in shapes:
            statement, _ = queries.statements(filters.shape("postgresql"), 1000)
            values = {
                **filters.params("postgresql"),
                "org": owner.organization_id,
                "offset": 0,
                "limit": 51,
                "now": now,
            }
            through_sqlalchemy = [list(row) for row in await connection.execute(statement, values)]
            on_the_driver = [list(row) for row in await driver.fetch(connection, statement, values)]
            assert on_the_driver == through_sqlalchemy
            assert through_sqlalchemy, filters
    amounts = [row[queries.AT["sla_amount"]] for row in through_sqlalchemy]
    paid = [amount for amount in amounts if amount is not None]
    assert len(paid) == 2 and all(isinstance(a, Decimal) for a in paid)  # not stroops
    assert all(a.as_tuple().exponent == -7 for a in paid)


async def test_a_connection_lost_under_the_driver_fails_as_sqlalchemy_would(
    app: Any, api: Api
) -> None:
    """The request answers 503 (not 500) and the pool replaces the connection."""
    owner = await api.owner()
    statement, _ = queries.statements(OutageFilters().shape("postgresql"), 1000)
    values = {"org": owner.organization_id, "offset": 0, "limit": 51, "now": utcnow()}
    async with tenant_session(app.state.database, owner.organization_id) as session:
        connection = await _killed(await session.connection())
        with pytest.raises(DBAPIError) as lost:
            await driver.fetch(connection, statement, values)
        assert lost.value.connection_invalidated and is_dependency_unavailable(lost.value)
        await session.rollback()
        connection = await _killed(await session.connection())
        with pytest.raises(DBAPIError) as lost:
            await driver.run(connection, "SET LOCAL enable_sort = off")
        assert lost.value.connection_invalidated and is_dependency_unavailable(lost.value)
        await session.rollback()
    listed = await api.get("/outages", owner)
    assert listed.status_code == 200


async def _killed(connection: Any) -> Any:
    """The connection, its server backend terminated (as a restart or a network cut would)."""
    pid = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
    admin = create_async_engine(TEST_DATABASE_URL)
    async with admin.connect() as other:
        await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    await admin.dispose()
    return connection
