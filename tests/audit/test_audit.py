import itertools
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from tests.conftest import TEST_DATABASE_URL
from tests.helpers import Api, assert_error


async def test_actions_are_chained_and_the_chain_verifies(api: Api) -> None:
    owner = await api.owner()
    await api.member(owner, "engineer")
    rows = (await api.get("/audit", owner)).json()["results"]
    assert [r["event_type"] for r in rows][-2:] == ["user.registered", "organization.created"]
    by_seq = sorted(rows, key=lambda r: r["seq"])
    assert by_seq[0]["prev_hash"] == "0" * 64
    for previous, current in itertools.pairwise(by_seq):
        assert current["prev_hash"] == previous["hash"]
    report = (await api.get("/audit/verify", owner)).json()
    assert report["valid"] is True and report["checked"] == len(rows)


async def test_filters_by_event_type_and_correlation_id(api: Api) -> None:
    owner = await api.owner()
    await api.client.post(
        "/api/v1/users",
        headers={**owner.headers, "X-Correlation-ID": "trace-7"},
        json={"email": "t7@example.com", "password": "Correct-Horse-42!"},
    )
    by_type = (await api.get("/audit", owner, params={"event_type": "user.created"})).json()
    assert [r["event_type"] for r in by_type["results"]] == ["user.created"]
    by_trace = (await api.get("/audit", owner, params={"correlation_id": "trace-7"})).json()
    assert by_trace["total"] == 1 and by_trace["results"][0]["entity_type"] == "user"


async def test_the_database_refuses_to_change_or_delete_audit_rows(app: Any, api: Api) -> None:
    await api.owner()
    # As the tables' owner, above row-level security: the trigger still refuses.
    engine = create_async_engine(TEST_DATABASE_URL)
    async with engine.connect() as connection:
        for statement in ("UPDATE audit_log SET event_type = 'x'", "DELETE FROM audit_log"):
            with pytest.raises(DBAPIError, match="append-only"):
                await connection.execute(text(statement))
            await connection.rollback()
    await engine.dispose()


async def test_tampering_is_detected_by_verify(app: Any, api: Api) -> None:
    owner = await api.owner()
    await api.login(owner.email)
    # Rows are tamper-evident once chained (right after their commit; verify chains first).
    assert (await api.get("/audit/verify", owner)).json()["valid"] is True
    engine = create_async_engine(TEST_DATABASE_URL)
    async with engine.begin() as connection:
        # Only someone with the power to disable the trigger can do this; verify still sees it.
        await connection.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        await connection.execute(
            text(
                'UPDATE audit_log SET data = \'{"email": "evil@example.com"}\' '
                "WHERE event_type = 'user.registered'"
            )
        )
        await connection.execute(text("ALTER TABLE audit_log ENABLE TRIGGER USER"))
    await engine.dispose()
    report = (await api.get("/audit/verify", owner)).json()
    assert report["valid"] is False
    assert report["first_broken_seq"] == 2
    assert "hash" in report["reason"]


async def test_the_audit_log_is_for_admins_and_one_organization(api: Api) -> None:
    owner, other = await api.owner(), await api.owner()
    engineer = await api.member(owner, "engineer")
    assert_error(await api.get("/audit", engineer), 403, "FORBIDDEN")
    theirs = (await api.get("/audit", other)).json()["results"]
    assert all(row["actor_id"] != owner.user["id"] for row in theirs)
