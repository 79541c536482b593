"""Defence in depth below the application (issue 24.9): what a statement of the service may
do if it were an attacker's (an injection), on the logins docs/operations.md tells production
to create. The requests' login may become the application role only; background work has a
login of its own that may become the system role, the only one the policies let cross.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from app.background import open_database
from app.config import Environment, Settings
from app.core.db import refuse_rls_bypass
from tests.conftest import TEST_DATABASE_URL
from tests.helpers import Api, make_app, make_client
from tests.outages.conftest import new_outage

pytestmark = pytest.mark.xdist_group("cluster_roles")  # roles belong to the cluster

API_LOGIN, WORKER_LOGIN = "apexchainx_test_api", "apexchainx_test_worker"
COUNT_OUTAGES = text("SELECT count(*) FROM outages")  # deliberately unfiltered


def _url(login: str) -> str:
    return make_url(TEST_DATABASE_URL).set(username=login).render_as_string(hide_password=False)


@pytest.fixture(scope="module")
async def logins() -> AsyncIterator[None]:
    """As docs/operations.md says: NOINHERIT logins, the requests' in the application role
    only, the workers' in the application and system roles."""
    admin = create_async_engine(TEST_DATABASE_URL)
    async with admin.begin() as connection:
        for login, roles in (
            (API_LOGIN, "apexchainx_app"),
            (WORKER_LOGIN, "apexchainx_app, apexchainx_system"),
        ):
            exists = await connection.execute(
                text("SELECT 1 FROM pg_roles WHERE rolname = :name"), {"name": login}
            )
            if exists.first() is None:
                await connection.execute(text(f"CREATE ROLE {login} LOGIN NOINHERIT"))
            await connection.execute(text(f"GRANT {roles} TO {login}"))
    await admin.dispose()
    yield


async def _as_requests_login(tenant: str) -> tuple[Any, AsyncConnection]:
    engine = create_async_engine(
        _url(API_LOGIN), connect_args={"server_settings": {"role": "apexchainx_app"}}
    )
    connection = await engine.connect()
    await connection.execute(
        text("SELECT set_config('app.tenant', :tenant, false)"), {"tenant": tenant}
    )
    await connection.commit()
    return engine, connection


async def _refused(connection: AsyncConnection, statement: str) -> str:
    savepoint = await connection.begin_nested()
    with pytest.raises(DBAPIError) as refused:
        await connection.execute(text(statement))
    await savepoint.rollback()
    return str(refused.value.orig).lower()


async def test_a_request_statement_cannot_switch_cross_tenant_reads_on(
    logins: None, api: Api
) -> None:
    alpha, bravo = await api.owner(), await api.owner()
    for _ in range(3):
        await new_outage(api, alpha)
    await new_outage(api, bravo)
    engine, connection = await _as_requests_login(bravo.organization_id)
    try:
        async with connection.begin():
            # What switched every policy open before: the setting alone.
            await connection.execute(text("SELECT set_config('app.cross_tenant', 'on', true)"))
            assert (await connection.execute(COUNT_OUTAGES)).scalar_one() == 1
            for climb in ("SET ROLE apexchainx_system", "SET ROLE postgres"):
                assert "permission denied" in await _refused(connection, climb)
            # Back to the login itself (RESET ROLE returns to the startup role; SET ROLE NONE
            # to the login): no superuser, and it holds nothing.
            await connection.execute(text("SET ROLE NONE"))
            assert "permission denied" in await _refused(connection, "SELECT 1 FROM outages")
    finally:
        await connection.close()
        await engine.dispose()


async def test_the_definer_functions_cannot_be_redefined_or_shadowed(logins: None) -> None:
    engine, connection = await _as_requests_login("")
    try:
        async with connection.begin():
            replaced = await _refused(
                connection,
                "CREATE OR REPLACE FUNCTION apexchainx_crosses_tenants() RETURNS boolean "
                "LANGUAGE sql AS $$ SELECT true $$",
            )
            assert "must be owner" in replaced or "permission denied" in replaced
            created = await _refused(
                connection, "CREATE FUNCTION public.mine() RETURNS int LANGUAGE sql AS $$ 1 $$"
            )
            assert "permission denied" in created
            # The one capability it has: where a secret it presents belongs (none here).
            found = await connection.execute(
                text("SELECT * FROM apexchainx_secret_owner('api_key', 'no-such-hash')")
            )
            assert found.all() == []
    finally:
        await connection.close()
        await engine.dispose()


async def test_every_tenant_policy_crosses_only_for_the_system_role(logins: None) -> None:
    admin = create_async_engine(TEST_DATABASE_URL)
    async with admin.connect() as connection:
        rules = (
            await connection.execute(
                text(
                    "SELECT tablename, qual FROM pg_policies WHERE policyname = 'tenant_isolation'"
                )
            )
        ).all()
    await admin.dispose()
    assert len(rules) > 30
    loose = [table for table, qual in rules if "apexchainx_crosses_tenants()" not in qual]
    assert loose == []
    assert all("cross_tenant" not in qual for _, qual in rules)


async def test_the_service_runs_on_the_two_logins(logins: None) -> None:
    """Sign-up, sign-in, refresh, an API key's intake, a password reset and the audit chain
    (linked by background work, on the workers' login) all work with the requests' login
    unable to cross."""
    app = make_app(database_url=_url(API_LOGIN), database_system_url=_url(WORKER_LOGIN))
    async with app.router.lifespan_context(app), make_client(app) as http:
        api = Api(http)
        owner = await api.owner()
        refreshed = await api.post("/auth/refresh", json={"refresh_token": owner.refresh_token})
        assert refreshed.status_code == 200, refreshed.text
        key = (
            await api.post("/api-keys", owner, json={"name": "probe", "role": "engineer"})
        ).json()
        fault = {
            "resource_id": "dev_1",
            "microservice_id": "probe",
            "type": "power",
            "severity": "HIGH",
            "message": "mains lost",
            "cause": "utility outage",
            "resource_ancestry_path": "site_1|dev_1",
        }
        intake = await api.post("/faults", json=fault, headers={"X-API-Key": key["key"]})
        assert intake.status_code == 201, intake.text
        engineer = await api.member(owner, "engineer")
        issued = await api.post(f"/users/{engineer.user['id']}/password-reset", owner)
        reset = await api.post(
            "/auth/password/reset",
            json={"token": issued.json()["token"], "new_password": "Another-Pass-123!"},
        )
        assert reset.status_code == 200, reset.text
        await app.state.database.chainers.wait()
        verified = await api.get("/audit/verify", owner)
        assert verified.status_code == 200, verified.text
        assert verified.json()["checked"] > 0


async def test_production_refuses_a_requests_login_that_could_climb(logins: None) -> None:
    for login, refused in ((API_LOGIN, False), (WORKER_LOGIN, True), ("postgres", True)):
        database = open_database(_production(_url(login)))
        try:
            if refused:
                with pytest.raises(RuntimeError, match="DATABASE_URL's login"):
                    await refuse_rls_bypass(database)
            else:
                await refuse_rls_bypass(database)
        finally:
            await database.dispose()


def _production(database_url: str) -> Settings:
    return Settings.model_construct(
        **{
            **Settings(database_url=database_url).model_dump(),
            "environment": Environment.production,
        }
    )
