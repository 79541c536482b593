"""The database wall: row-level security on PostgreSQL, in force for the service's
connections, whatever statement a service writes."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from app.background import open_database
from app.config import Settings
from app.core.db import Base, Database, refuse_rls_bypass
from app.core.tenancy import TenantMixin, cross_tenant, system_session, tenant_session
from tests.conftest import TEST_DATABASE_URL
from tests.helpers import Api
from tests.outages.conftest import new_outage

COUNT_OUTAGES = text("SELECT count(*) FROM outages")  # deliberately unfiltered


async def _two_organizations_with_outages(api: Api) -> tuple[str, str]:
    alpha, bravo = await api.owner(), await api.owner()
    for _ in range(3):
        await new_outage(api, alpha)
    await new_outage(api, bravo)
    return alpha.organization_id, bravo.organization_id


async def test_unfiltered_text_sql_in_a_tenant_session_counts_only_that_tenant(
    app: Any, api: Api
) -> None:
    alpha, bravo = await _two_organizations_with_outages(api)
    database: Database = app.state.database
    async with tenant_session(database, alpha) as session:
        assert (await session.execute(COUNT_OUTAGES)).scalar_one() == 3
    async with tenant_session(database, bravo) as session:
        assert (await session.execute(COUNT_OUTAGES)).scalar_one() == 1


async def test_a_forgotten_tenant_is_no_rows_and_crossing_is_explicit(app: Any, api: Api) -> None:
    await _two_organizations_with_outages(api)
    database: Database = app.state.database
    async with database.sessionmaker() as session:
        assert (await session.execute(COUNT_OUTAGES)).scalar_one() == 0
        async with cross_tenant(session, "a test that counts everything"):
            assert (await session.execute(COUNT_OUTAGES)).scalar_one() == 4
        assert (await session.execute(COUNT_OUTAGES)).scalar_one() == 0
    async with system_session(database, "a test that counts everything") as session:
        assert (await session.execute(COUNT_OUTAGES)).scalar_one() == 4


async def test_the_tenant_never_outlives_its_transaction_on_a_pooled_connection(
    app: Any, api: Api
) -> None:
    alpha, _ = await _two_organizations_with_outages(api)
    database = open_database(Settings(database_url=TEST_DATABASE_URL, database_pool_size=1))
    try:
        async with tenant_session(database, alpha) as session:
            assert (await session.execute(COUNT_OUTAGES)).scalar_one() == 3
            await session.commit()
        async with database.engine.connect() as connection:  # the same pooled connection
            assert (await connection.execute(COUNT_OUTAGES)).scalar_one() == 0
    finally:
        await database.dispose()


async def test_writes_into_another_tenant_are_refused(app: Any, api: Api) -> None:
    alpha, bravo = await _two_organizations_with_outages(api)
    async with tenant_session(app.state.database, alpha) as session:
        with pytest.raises(ProgrammingError, match="row-level security"):
            await session.execute(
                text("UPDATE outages SET organization_id = :other"), {"other": bravo}
            )
        await session.rollback()
        with pytest.raises(ProgrammingError, match="row-level security"):
            await session.execute(
                text(
                    "INSERT INTO api_keys (id, organization_id, name, key_prefix, key_hash, "
                    "role, created_at) VALUES ('key_x', :other, 'x', 'x', 'x', 'viewer', now())"
                ),
                {"other": bravo},
            )


async def test_every_tenant_table_has_forced_row_level_security(app: Any) -> None:
    tenant_tables = {
        mapper.local_table.name
        for mapper in Base.registry.mappers
        if issubclass(mapper.class_, TenantMixin)
    } | {"organizations", "jobs", "idempotency_keys"}
    async with system_session(app.state.database, "read the catalog") as session:
        rows = await session.execute(
            text(
                "SELECT relname FROM pg_class WHERE relkind = 'r' "
                "AND relrowsecurity AND relforcerowsecurity"
            )
        )
        protected = {name for (name,) in rows}
    assert tenant_tables - protected == set()


async def test_the_service_acts_as_a_role_that_row_level_security_binds(app: Any) -> None:
    async with app.state.database.engine.connect() as connection:
        role = (
            await connection.execute(
                text(
                    "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles "
                    "WHERE rolname = current_user"
                )
            )
        ).one()
    assert role == ("apexchainx_app", False, False)


async def test_the_service_refuses_to_start_as_a_role_above_row_level_security() -> None:
    database = open_database(Settings(database_url=TEST_DATABASE_URL, database_role=""))
    try:
        with pytest.raises(RuntimeError, match="bypasses row-level security"):
            await refuse_rls_bypass(database)
    finally:
        await database.dispose()
