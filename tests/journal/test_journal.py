"""The journal: a change's rows written with its transaction, together, and only if it commits.

Each test runs on PostgreSQL (the suite's database, one statement per write) and on SQLite (the
embedded default, migrated by Alembic like a newcomer's, a multi-row insert per table)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select

from app.auth.schemas import RegisterRequest
from app.auth.service import register
from app.background import open_database
from app.config import Settings
from app.core.actors import SYSTEM
from app.core.db import Database
from app.core.tenancy import tenant_session
from app.journal import journal
from app.journal.entries import Change
from app.journal.models import AuditLog, DomainEvent
from tests import templates
from tests.conftest import TEST_DATABASE_URL


@pytest.fixture(params=["postgresql", "sqlite"])
async def database(request: Any, tmp_path: Path) -> AsyncIterator[Database]:
    postgresql = request.param == "postgresql"
    url = TEST_DATABASE_URL if postgresql else templates.copy_sqlite(tmp_path)
    opened = open_database(Settings(database_url=url))
    yield opened
    await opened.dispose()


@pytest.fixture
async def organization(database: Database) -> str:
    async with database.sessionmaker() as session:
        user = await register(
            session, RegisterRequest(email="journal@example.com", password="Journal-pass-1")
        )
        await session.commit()
    return user.organization_id


def _change(organization: str, entity: str, *, publish: bool = True) -> Change:
    return Change(
        organization,
        SYSTEM,
        "outage.updated",
        entity_type="outage",
        entity_id=entity,
        data={"entity": entity},
        publish={"outage_id": entity} if publish else None,
    )


class Statements:
    """The INSERTs into the journal's tables a database ran."""

    def __init__(self, database: Database) -> None:
        self.seen: list[str] = []
        event.listen(database.engine.sync_engine, "before_cursor_execute", self._saw)

    def _saw(self, *args: Any) -> None:
        sql = args[2]
        if "INSERT INTO audit_log" in sql or "INSERT INTO events" in sql:
            self.seen.append(sql)


async def _audited(database: Database, organization: str, entity: str) -> int:
    async with tenant_session(database, organization) as session:
        query = select(func.count()).where(AuditLog.entity_id == entity)
        return int((await session.execute(query)).scalar_one())


async def _published(database: Database, organization: str, entity: str) -> int:
    async with tenant_session(database, organization) as session:
        query = select(func.count()).where(DomainEvent.entity_id == entity)
        return int((await session.execute(query)).scalar_one())


async def test_the_rows_of_a_transaction_are_written_together_at_its_commit(
    database: Database, organization: str
) -> None:
    statements = Statements(database)
    async with tenant_session(database, organization) as session:
        for entity in ("out_a", "out_b", "out_c"):
            journal.record(session, _change(organization, entity))
        assert statements.seen == []  # nothing is written before it has to be
        await session.commit()
    postgresql = database.engine.dialect.name == "postgresql"
    assert len(statements.seen) == (1 if postgresql else 2)  # one statement, or one per table
    for entity in ("out_a", "out_b", "out_c"):
        assert await _audited(database, organization, entity) == 1
        assert await _published(database, organization, entity) == 1


async def test_a_read_in_the_same_transaction_sees_the_rows_recorded(
    database: Database, organization: str
) -> None:
    async with tenant_session(database, organization) as session:
        journal.record(session, _change(organization, "out_read"))
        query = select(AuditLog.event_type).where(AuditLog.entity_id == "out_read")
        assert (await session.execute(query)).scalars().all() == ["outage.updated"]
        await session.rollback()
    assert await _audited(database, organization, "out_read") == 0


async def test_a_savepoint_rolled_back_takes_its_changes_and_keeps_the_ones_before(
    database: Database, organization: str
) -> None:
    async with tenant_session(database, organization) as session:
        journal.record(session, _change(organization, "out_kept"))
        with pytest.raises(RuntimeError):
            async with session.begin_nested():
                journal.record(session, _change(organization, "out_undone"))
                # A read writes both inside the savepoint: the rollback undoes both rows.
                await session.execute(select(AuditLog.id).limit(1))
                raise RuntimeError("the savepoint's work failed")
        assert [e[0] for e in journal.journal_of(session).emitted] != []
        assert all(org == organization for _, org, _ in journal.journal_of(session).emitted)
        assert len(journal.journal_of(session).emitted) == 1  # the undone event is not delivered
        await session.commit()
    assert await _audited(database, organization, "out_kept") == 1
    assert await _published(database, organization, "out_kept") == 1
    assert await _audited(database, organization, "out_undone") == 0
    assert await _published(database, organization, "out_undone") == 0


async def test_a_rolled_back_transaction_leaves_nothing_to_the_next(
    database: Database, organization: str
) -> None:
    async with tenant_session(database, organization) as session:
        journal.record(session, _change(organization, "out_gone"))
        await session.rollback()
        journal.record(session, _change(organization, "out_next", publish=False))
        await session.commit()
    assert await _audited(database, organization, "out_gone") == 0
    assert await _audited(database, organization, "out_next") == 1


async def test_a_commit_before_the_reactions_ran_is_refused_and_writes_nothing(
    database: Database, organization: str
) -> None:
    async with tenant_session(database, organization) as session:
        journal.record(session, _change(organization, "out_refused"))
        # `sla.calculated` has reactions (its payout): committing without `follow_up` is a bug.
        journal.record(session, Change(organization, SYSTEM, "sla.calculated", audited=False))
        with pytest.raises(RuntimeError, match="reactions"):
            await session.commit()
        await session.rollback()
    assert await _audited(database, organization, "out_refused") == 0


async def test_a_database_without_the_journal_refuses_to_record() -> None:
    bare = Database(Settings(database_url=TEST_DATABASE_URL))
    try:
        async with bare.sessionmaker() as session:
            with pytest.raises(RuntimeError, match="no journal"):
                journal.record(session, Change("org_x", SYSTEM, "probe"))
    finally:
        await bare.dispose()
