"""The journal of a transaction: what its changes leave behind, and what follows from them.

`record()` is the one call a change makes. It notes the change's audit row, domain event and
timeline entry; the journal writes them itself, together (one statement on PostgreSQL), right
before the next statement the session runs or at the commit, after the ORM's own rows (an
entry names its outage). So a change's rows exist if and only if it commits, a read in the
same transaction sees them, and a savepoint rolled back takes its changes with it.

The session carries the journal as one typed object (`journal_of`): the events the webhook
fan-out delivers, the organizations whose audit chain grows after the commit, the jobs handed
to the executor after the commit, and the changes whose reactions are still to run
(`follow_up`, declared in `app/reactions.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

from sqlalchemy import event, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

from app.core.actors import Actor
from app.core.clock import utcnow
from app.core.together import Reads, read_alone, together
from app.journal.entries import Change, Note, audit_row, event_row, timeline_row
from app.journal.models import AuditLog, DomainEvent, TimelineEntry
from app.journal.reactions import REACTIONS

JOURNAL_KEY = "journal"
INSTALLED = "journal_installed"
# Rows of one write beyond this go table by table (a multi-row insert each): one statement
# per row shape would fill the statement cache with one-off shapes.
TOGETHER_AT_MOST = 24
_WRITE_ORDER = {TimelineEntry: 0, DomainEvent: 1, AuditLog: 2}

NOTED = "outage.noted"  # the kind of a timeline line that is only that

Emitted = tuple[str, str, str]  # event id, organization id, event type


@dataclass(slots=True)
class _Mark:
    """Where each list stood when a savepoint began (a rollback to it cuts them back, and
    rows written since are to be written again: the database forgot them)."""

    rows: int
    written: int
    emitted: int
    jobs: int
    added: int
    unanswered: int


@dataclass(slots=True)
class Journal:
    # Every row the transaction's changes noted, in order; the first `written` are written.
    rows: list[tuple[type[Any], dict[str, Any]]] = field(default_factory=list)
    written: int = 0
    emitted: list[Emitted] = field(default_factory=list)
    audited: set[str] = field(default_factory=set)
    jobs: list[Any] = field(default_factory=list)
    added: list[dict[str, Any]] = field(default_factory=list)
    unanswered: list[tuple[Change, Any]] = field(default_factory=list)
    # Organizations a write found without an active webhook: the fan-out skips its query.
    unsubscribed: set[str] = field(default_factory=set)
    # Values a write read in its own statement, for the response (an outage's threshold).
    read_along: dict[str, Any] = field(default_factory=dict)
    marks: dict[int, _Mark] = field(default_factory=dict)

    def mark(self) -> _Mark:
        return _Mark(
            len(self.rows),
            self.written,
            len(self.emitted),
            len(self.jobs),
            len(self.added),
            len(self.unanswered),
        )

    @property
    def pending(self) -> list[tuple[type[Any], dict[str, Any]]]:
        return self.rows[self.written :]

    def cut_back(self, mark: _Mark) -> None:
        del self.rows[mark.rows :]
        self.written = min(self.written, mark.written)
        del self.emitted[mark.emitted :]
        del self.jobs[mark.jobs :]
        del self.added[mark.added :]
        del self.unanswered[mark.unanswered :]


def journal_of(session: AsyncSession | Session) -> Journal:
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    if not getattr(type(sync), INSTALLED, False):
        raise RuntimeError(
            "This session's database has no journal: app.background.install_session_hooks()."
        )
    journal: Journal | None = sync.info.get(JOURNAL_KEY)
    if journal is None:
        if not sync.in_transaction():
            # As `session.add` does: the change belongs to a transaction from now on, so a
            # rollback before any statement forgets it too.
            sync.begin()
        journal = sync.info[JOURNAL_KEY] = Journal()
    return journal


def peek(session: Session) -> Journal | None:
    """The journal, if the transaction has one (for the hooks after a commit)."""
    journal: Journal | None = session.info.get(JOURNAL_KEY)
    return journal


def record(session: AsyncSession, change: Change, *, subject: Any = None) -> None:
    """Records the change in the session's transaction: its audit row (unless not audited),
    its domain event (when it publishes one), its timeline entry (when it has a note); its
    reactions run at the next `follow_up` (`subject` is the object they act on)."""
    journal = journal_of(session)
    at = utcnow()
    if change.note is not None:
        entry = timeline_row(change, change.note, at)
        journal.rows.append((TimelineEntry, entry))
        journal.added.append(entry)
    if change.publish is not None:
        row = event_row(change, at)
        journal.rows.append((DomainEvent, row))
        journal.emitted.append((row["id"], change.organization_id, change.kind))
    if change.audited:
        journal.rows.append((AuditLog, audit_row(change, at)))
        journal.audited.add(change.organization_id)
    if REACTIONS.declared(change.kind):
        journal.unanswered.append((change, subject))


def note(session: AsyncSession, organization_id: str, actor: Actor, line: Note) -> None:
    """A line on an outage's timeline and nothing else (not audited, no event)."""
    record(session, Change(organization_id, actor, NOTED, note=line, audited=False))


def record_rows(
    session: AsyncSession,
    *,
    timeline: Sequence[dict[str, Any]] = (),
    events: Sequence[dict[str, Any]] = (),
    audit: Sequence[dict[str, Any]] = (),
) -> None:
    """Rows built by the caller (`app.journal.entries`) for a bulk write of thousands of
    changes; they are written like any other (no reactions: none is declared on bulk kinds)."""
    journal = journal_of(session)
    journal.rows.extend((TimelineEntry, row) for row in timeline)
    journal.rows.extend((DomainEvent, row) for row in events)
    journal.emitted.extend((r["id"], r["organization_id"], r["event_type"]) for r in events)
    journal.rows.extend((AuditLog, row) for row in audit)
    journal.audited.update(row["organization_id"] for row in audit)


async def follow_up(session: AsyncSession) -> None:
    """Runs the reactions of the changes recorded so far, and of the changes they record in
    turn, in order, in this transaction."""
    journal = journal_of(session)
    while journal.unanswered:
        change, subject = journal.unanswered.pop(0)
        for reaction in REACTIONS.of(change.kind):
            await reaction(session, change, subject)


def write_now(session: Session) -> None:
    """Writes the rows noted so far (a session hook; the synchronous session)."""
    journal: Journal | None = session.info.get(JOURNAL_KEY)
    if journal is not None and journal.written < len(journal.rows):
        _write(session, journal)


async def write_with(
    session: AsyncSession,
    lead: tuple[type[Any], dict[str, Any]],
    reads: Reads,
    *,
    column_reads: dict[str, int] | None = None,
) -> tuple[Any, ...]:
    """Inserts `lead` (a new row of the caller's) and the rows noted so far, together, and
    returns what `reads` select, as of before the write; `column_reads` fill a column of the
    lead with one of the reads (column -> read index). One statement on PostgreSQL."""
    return await session.run_sync(
        lambda sync: _write(sync, journal_of(sync), lead, reads, column_reads or {})
    )


def _write(
    session: Session,
    journal: Journal,
    lead: tuple[type[Any], dict[str, Any]] | None = None,
    reads: Reads | None = None,
    column_reads: dict[str, int] | None = None,
) -> tuple[Any, ...]:
    """The pending rows (after the ORM's own, which an entry or event may name), with the
    lead row and its reads when given: one statement on PostgreSQL, else the reads first and
    a multi-row insert per table."""
    session.flush()
    connection = session.connection()
    rows = sorted(journal.pending, key=lambda row: _WRITE_ORDER[row[0]])
    journal.written = len(journal.rows)
    links = column_reads or {}
    reads = reads or Reads()
    if connection.dialect.name == "postgresql" and len(rows) <= TOGETHER_AT_MOST:
        statement, bound = together(
            [lead, *rows] if lead else rows,
            reads.selects,
            parameters=reads.parameters,
            from_reads={(0, column): index for column, index in links.items()},
        )
        return tuple(connection.execute(statement, bound).one())
    found = tuple(
        connection.execute(read_alone(read), reads.parameters).scalar() for read in reads.selects
    )
    if lead is not None:
        model, values = lead
        connection.execute(insert(model), [{**values, **{c: found[i] for c, i in links.items()}}])
    for model, group in groupby(rows, key=lambda row: row[0]):
        connection.execute(insert(model), [values for _, values in group])
    return found


def install_journal(session_class: type[Session]) -> None:
    """The journal's hooks on a database's sessions."""
    setattr(session_class, INSTALLED, True)

    @event.listens_for(session_class, "do_orm_execute")
    def _before_statement(state: ORMExecuteState) -> None:
        if state.session.autoflush:
            write_now(state.session)

    @event.listens_for(session_class, "before_commit")
    def _before_commit(session: Session) -> None:
        journal: Journal | None = session.info.get(JOURNAL_KEY)
        if journal is None or session.in_nested_transaction():
            return
        if journal.unanswered:
            kinds = sorted({change.kind for change, _ in journal.unanswered})
            raise RuntimeError(f"changes committed before their reactions ran: {kinds}")
        write_now(session)

    @event.listens_for(session_class, "after_transaction_create")
    def _savepoint(session: Session, transaction: SessionTransaction) -> None:
        if transaction.nested:
            journal = journal_of(session)
            journal.marks[id(transaction)] = journal.mark()

    @event.listens_for(session_class, "after_soft_rollback")
    def _rolled_back(session: Session, previous: SessionTransaction) -> None:
        journal: Journal | None = session.info.get(JOURNAL_KEY)
        if journal is None:
            return
        if previous.nested:
            mark = journal.marks.pop(id(previous), None)
            if mark is not None:
                journal.cut_back(mark)
        elif previous.parent is None:
            session.info.pop(JOURNAL_KEY, None)

    @event.listens_for(session_class, "after_transaction_end")
    def _ended(session: Session, transaction: SessionTransaction) -> None:
        # A savepoint's mark stays until a rollback to it (`after_soft_rollback` comes after
        # this event) or the end of the transaction, which forgets the whole journal.
        if not transaction.nested and transaction.parent is None:
            session.info.pop(JOURNAL_KEY, None)
