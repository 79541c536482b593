"""The chainer: links audit rows into their organization's chain after they commit.

A write records its audit row unchained (no sequence number, no hashes) in its own
transaction, so no write waits for another to extend the chain. Right after a commit that
wrote audit rows, a chainer for that organization runs (debounced, in the same process);
`GET /audit` and `GET /audit/verify` run it first too, and a sweep catches anything left (a
process that died before its chainer ran).

A chainer locks the organization's chain head, takes the unchained rows it can see in id
order, gives them the next sequence numbers and their keyed hashes, and moves the head, in
one transaction: two chainers take turns on the head, so the chain is gap-free and never
forks, and a row joins it once, in the order rows became visible. The database lets exactly
this one update through its append-only trigger.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, cast

import structlog
from sqlalchemy import Table, bindparam, event, select, update
from sqlalchemy.orm import Session

from app.audit.chain import row_hash, signing_key
from app.audit.models import AuditChainHead
from app.core.db import Database
from app.core.tenancy import system_session, tenant_session
from app.journal.journal import peek
from app.journal.models import AuditLog

log = structlog.get_logger(__name__)

BATCH = 1000
DEBOUNCE_SECONDS = 0.25

_LOG = cast(Table, AuditLog.__table__)
_HEADS = cast(Table, AuditChainHead.__table__)
_LOCK_HEAD = (
    select(_HEADS.c.id, _HEADS.c.seq, _HEADS.c.hash)
    .where(_HEADS.c.organization_id == bindparam("org"))
    .with_for_update()
)
_HASHED_COLUMNS = (
    "id",
    "organization_id",
    "occurred_at",
    "actor_type",
    "actor_id",
    "event_type",
    "entity_type",
    "entity_id",
    "correlation_id",
    "data",
)
_UNCHAINED = (
    select(*(_LOG.c[name] for name in _HASHED_COLUMNS))
    .where(_LOG.c.organization_id == bindparam("org"), _LOG.c.seq.is_(None))
    .order_by(_LOG.c.id)
    .limit(BATCH)
)
_LINK = (
    update(_LOG)
    .where(_LOG.c.id == bindparam("row_id"), _LOG.c.seq.is_(None))
    .values(
        seq=bindparam("new_seq"),
        prev_hash=bindparam("new_prev_hash"),
        hash=bindparam("new_hash"),
        key_id=bindparam("new_key_id"),
    )
)
_MOVE_HEAD = (
    update(_HEADS)
    .where(_HEADS.c.id == bindparam("head_id"))
    .values(seq=bindparam("new_seq"), hash=bindparam("new_hash"))
)
_UNCHAINED_ORGANIZATIONS = select(_LOG.c.organization_id).where(_LOG.c.seq.is_(None)).distinct()


async def chain(database: Database, organization_id: str) -> int:
    """Links the organization's unchained rows; how many."""
    linked = 0
    while True:
        batch = await _chain_batch(database, organization_id)
        linked += batch
        if batch < BATCH:
            return linked


async def _chain_batch(database: Database, organization_id: str) -> int:
    key_id, key = signing_key(database.settings)
    async with tenant_session(database, organization_id) as session:
        connection = await session.connection()
        head = (await connection.execute(_LOCK_HEAD, {"org": organization_id})).one_or_none()
        if head is None:
            return 0
        rows = (await connection.execute(_UNCHAINED, {"org": organization_id})).mappings()
        seq, previous, links = head.seq, head.hash, []
        for row in rows:
            seq += 1
            values: dict[str, Any] = {**row, "seq": seq, "prev_hash": previous}
            values.pop("id")
            previous = row_hash(**values, key=key)
            links.append(
                {
                    "row_id": row["id"],
                    "new_seq": seq,
                    "new_prev_hash": values["prev_hash"],
                    "new_hash": previous,
                    "new_key_id": key_id,
                }
            )
        if links:
            await connection.execute(_LINK, links)
            await connection.execute(
                _MOVE_HEAD, {"head_id": head.id, "new_seq": seq, "new_hash": previous}
            )
        await session.commit()
    return len(links)


async def chain_everything(database: Database) -> int:
    """The sweep: every organization with unchained rows."""
    async with system_session(database, "find organizations with unchained audit rows") as s:
        organizations = list((await s.execute(_UNCHAINED_ORGANIZATIONS)).scalars())
    return sum([await chain(database, organization_id) for organization_id in organizations])


class Chainers:
    """The chainers of this process: at most one per organization, running or about to, shortly
    after the commit that wrote its rows. Commits meanwhile mark it to run once more, so a burst
    of writes is chained in a few passes, never by a pile of chainers waiting on one lock."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.pending: set[str] = set()  # scheduled or running
        self.again: set[str] = set()  # written to while running: one more pass
        self.tasks: set[asyncio.Task[Any]] = set()
        self.timers: dict[str, asyncio.TimerHandle] = {}  # scheduled, not started yet

    def soon(self, organizations: set[str]) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop here (a script): the sweep chains them
        for organization_id in organizations:
            if organization_id in self.pending:
                self.again.add(organization_id)
                continue
            self.pending.add(organization_id)
            self.timers[organization_id] = loop.call_later(
                DEBOUNCE_SECONDS, self._start, organization_id
            )

    def _start(self, organization_id: str) -> None:
        self.timers.pop(organization_id, None)
        task = asyncio.ensure_future(self._run(organization_id))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _run(self, organization_id: str) -> None:
        try:
            while True:
                self.again.discard(organization_id)
                await chain(self.database, organization_id)
                if organization_id not in self.again:
                    return
        except Exception as exc:  # the sweep tries again
            log.warning("audit_chain_deferred", error=type(exc).__name__)
        finally:
            self.pending.discard(organization_id)

    async def wait(self, patience_seconds: float = 5.0) -> None:
        """Lets the scheduled chainers finish (shutdown, and tests); those still waiting out
        the debounce start now (nothing is left to batch with when the process stops)."""
        for organization_id, timer in list(self.timers.items()):
            timer.cancel()
            self._start(organization_id)
        deadline = asyncio.get_running_loop().time() + patience_seconds
        while (self.pending or self.tasks) and asyncio.get_running_loop().time() < deadline:
            if self.tasks:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.gather(*self.tasks), patience_seconds)
            else:
                await asyncio.sleep(DEBOUNCE_SECONDS)


def install_chaining(database: Database) -> Chainers:
    """After a commit that wrote audit rows, their organizations are chained soon."""
    chainers = Chainers(database)

    @event.listens_for(database.session_class, "after_commit")
    def _schedule(session: Session) -> None:
        journal = peek(session)
        if journal is not None and journal.audited:
            chainers.soon(set(journal.audited))

    return chainers
