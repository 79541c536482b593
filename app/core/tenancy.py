"""Tenant isolation, behind two walls.

1. **The database** (PostgreSQL): every tenant-owned table has row-level security, forced, with
   the policy `organization_id = current_setting('app.tenant')`. The application connects as a
   role that is neither the tables' owner nor a superuser (`DATABASE_ROLE`, set on every new
   connection), and the tenant is set per transaction (`set_config(..., true)`), so it can
   never leak into the next transaction on a pooled connection. A statement that forgets its
   filter (an aggregate, a Core or text statement) still sees only its tenant's rows; a
   session with no tenant sees none.
2. **The ORM** (both databases, the only wall on SQLite): a `do_orm_execute` hook adds
   `organization_id = :tenant` to every ORM SELECT, UPDATE and DELETE touching a tenant model,
   and `false` when the session has no tenant.

Background work that must cross tenants (job claiming, sweeps, metrics, audit chaining) says
so through `system_session(database, purpose)`: its transactions set `app.cross_tenant` and
take the system role, whose members alone the policies let cross (migration 0022); in
production its login is not the requests' (`DATABASE_SYSTEM_URL`). A request never crosses:
the few reads it makes before it knows its organization (sign-in by email, the secret it
presents, a payer's sequence numbers) are SECURITY DEFINER functions (`app/core/crossings.py`).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import ForeignKey, Join, Select, String, Table, event, false, text
from sqlalchemy.exc import DBAPIError, InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import (
    Mapped,
    ORMExecuteState,
    Session,
    SessionTransaction,
    declared_attr,
    mapped_column,
    with_loader_criteria,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from app.core.db import Database

log = structlog.get_logger(__name__)

TENANT_KEY = "organization_id"
_PRESET_KEY = "tenant_set_by_first_statement"
CROSS_TENANT_KEY = "cross_tenant"
# Per-transaction settings the row-level security policies read (see the migration).
TENANT_SETTING = "app.tenant"
CROSS_TENANT_SETTING = "app.cross_tenant"
SYSTEM_ROLE = "apexchainx_system"  # DATABASE_SYSTEM_ROLE's default
_APPLY = text(
    "SELECT set_config('app.tenant', :tenant, true), set_config('app.cross_tenant', :cross, true)"
)
# Crossing tenants also takes the system role for the rest of the transaction: the policies
# honour `app.cross_tenant` only for its members (migration 0022), and the application role
# is not one. Leaving a cross-tenant block clears the setting, which is enough to close it.
_APPLY_CROSSING = text(
    "SELECT set_config('app.tenant', :tenant, true), set_config('app.cross_tenant', :cross, true),"
    " set_config('role', :role, true)"
)


class TenantMixin:
    @declared_attr
    def organization_id(self) -> Mapped[str]:
        return mapped_column(
            String(30), ForeignKey("organizations.id", ondelete="CASCADE"), index=True
        )


def _is_postgres(session: AsyncSession | Session) -> bool:
    return bool(session.get_bind().dialect.name == "postgresql")


async def _apply_now(session: AsyncSession) -> None:
    """A transaction already under way gets the new scope at once; a later one gets it from
    the `after_begin` hook."""
    if session.in_transaction() and _is_postgres(session):
        settings = _settings_of(session.sync_session)
        await session.execute(_apply_statement(settings), settings)


def _apply_statement(settings: dict[str, str]) -> Any:
    return _APPLY_CROSSING if settings["cross"] else _APPLY


def _settings_of(session: Session) -> dict[str, str]:
    tenant = session.info.get(TENANT_KEY)
    settings = {
        "tenant": tenant if isinstance(tenant, str) else "",
        "cross": "on" if session.info.get(CROSS_TENANT_KEY) else "",
    }
    if settings["cross"]:
        database = session.info.get("database")
        settings["role"] = (
            database.settings.database_system_role if database is not None else SYSTEM_ROLE
        )
    return settings


async def first_statement_scoped(
    session: AsyncSession, organization_id: str, statement: Any, params: dict[str, Any]
) -> Any:
    """Runs `statement` as the transaction's first, when it sets the tenant itself (a
    function that calls `set_config` before it reads, saving a round trip), and scopes the
    session to `organization_id` from then on. Anywhere else it is scoped first as usual."""
    if session.in_transaction():
        raise RuntimeError("first_statement_scoped() must start the transaction")
    session.info[TENANT_KEY] = organization_id
    session.info[_PRESET_KEY] = True
    # On the session's connection: the ORM's per-statement hooks have nothing to do for the
    # transaction's first statement (no entity to filter, nothing pending to write first).
    connection = await session.connection()
    return await connection.execute(statement, params)


async def scope_session_to(session: AsyncSession, organization_id: str) -> None:
    """From now on the session reads and writes this organization's rows only."""
    session.info[TENANT_KEY] = organization_id
    await _apply_now(session)


def session_tenant(session: AsyncSession | Session) -> str | None:
    value: Any = session.info.get(TENANT_KEY)
    return value if isinstance(value, str) else None


@contextlib.asynccontextmanager
async def cross_tenant(session: AsyncSession, purpose: str) -> AsyncIterator[AsyncSession]:
    """Every organization's rows, for the statements inside the block only. `purpose` names
    why (it is logged at debug level and reads as documentation at the call site)."""
    previous = session.info.get(CROSS_TENANT_KEY)
    session.info[CROSS_TENANT_KEY] = purpose
    await _apply_now(session)
    log.debug("cross_tenant", purpose=purpose)
    try:
        yield session
    except BaseException:
        _restore(session, previous)
        # The block failed: when it failed because the connection died, restoring the scope
        # fails too, and that second error must not hide the first (a 503 would become a
        # 500). Nothing more can run on such a connection, so nothing runs unscoped.
        with contextlib.suppress(DBAPIError, InvalidRequestError):
            if session.is_active:
                await _apply_now(session)
        raise
    _restore(session, previous)
    if session.is_active:
        await _apply_now(session)


def _restore(session: AsyncSession, previous: Any) -> None:
    if previous is None:
        session.info.pop(CROSS_TENANT_KEY, None)
    else:
        session.info[CROSS_TENANT_KEY] = previous


@contextlib.asynccontextmanager
async def system_session(database: Database, purpose: str) -> AsyncIterator[AsyncSession]:
    """A session of its own that crosses tenants for its whole life: platform work (sweeps,
    job claiming, metrics, start-up) that belongs to no single organization."""
    async with database.system_sessionmaker() as session:
        session.info[CROSS_TENANT_KEY] = purpose
        yield session


@contextlib.asynccontextmanager
async def tenant_session(database: Database, organization_id: str) -> AsyncIterator[AsyncSession]:
    """A session of its own, scoped to one organization from its first statement."""
    async with database.sessionmaker() as session:
        session.info[TENANT_KEY] = organization_id
        yield session


@lru_cache(maxsize=4096)
def _tenant_criteria(organization_id: str) -> Any:
    """One option object per organization: building it is the costly part, and it is
    immutable, so every statement of that organization shares it."""
    return with_loader_criteria(
        TenantMixin,
        lambda cls: cls.organization_id == organization_id,
        include_aliases=True,
    )


_NO_TENANT = with_loader_criteria(TenantMixin, lambda cls: false(), include_aliases=True)


_TABLES: dict[int, frozenset[Table]] = {}


def _tenant_tables() -> frozenset[Table]:
    """The tables of tenant models, recomputed only when a model is added."""
    models = _descendants(TenantMixin)
    cached = _TABLES.get(len(models))
    if cached is None:
        cached = frozenset(
            table
            for model in models
            if isinstance(table := getattr(model, "__table__", None), Table)
        )
        _TABLES.clear()
        _TABLES[len(models)] = cached
    return cached


def _descendants(cls: type) -> list[type]:
    found: list[type] = []
    sub: type
    for sub in cls.__subclasses__():
        found += [sub, *_descendants(sub)]
    return found


def _filter_froms(statement: Select[Any], organization_id: str | None) -> Select[Any]:
    """Loader criteria reach the entities a statement selects; an aggregate over columns in
    an expression (`sum(case(...))`) may name none. Every tenant table (or alias of one) in
    the statement's FROM gets the filter here too."""
    tables = _tenant_tables()
    for from_ in statement.get_final_froms():
        for selectable in _filterable(from_):
            table = getattr(selectable, "element", selectable)
            if table in tables:
                column = selectable.c.organization_id
                statement = statement.where(
                    false() if organization_id is None else column == organization_id
                )
    return statement


def _filterable(from_: Any) -> list[Any]:
    """The tables a WHERE may filter: both sides of an inner join, only the left of an outer
    one (a WHERE on the right would drop its unmatched rows; loader criteria put the tenant
    in that join's ON clause instead)."""
    if isinstance(from_, Join):
        right = [] if from_.isouter or from_.full else _filterable(from_.right)
        return [*_filterable(from_.left), *right]
    return [from_]


def _needs_from_filter(state: ORMExecuteState) -> bool:
    bind = state.session.bind
    return bind is None or bind.dialect.name != "postgresql"


@event.listens_for(Session, "do_orm_execute")
def _filter_by_tenant(state: ORMExecuteState) -> None:
    info = state.session.info
    if info.get(CROSS_TENANT_KEY) or state.is_column_load or state.is_relationship_load:
        return
    if state.is_select or state.is_update or state.is_delete:
        organization_id = info.get(TENANT_KEY)
        criteria = _NO_TENANT if organization_id is None else _tenant_criteria(organization_id)
        state.statement = state.statement.options(criteria)
        # Statements whose tenant tables hide in expressions: on PostgreSQL row-level security
        # covers them (and inspecting every statement's FROM would cost a compile each).
        if isinstance(state.statement, Select) and _needs_from_filter(state):
            state.statement = _filter_froms(state.statement, organization_id)


def install_tenant_settings(session_class: type[Session]) -> None:
    """PostgreSQL: each transaction of these sessions starts with its tenant (or its
    cross-tenant purpose) set for row-level security. Nothing is set for a session with
    neither, and the policies then show it no rows."""

    @event.listens_for(session_class, "after_begin")
    def _apply(session: Session, _: SessionTransaction, connection: Connection) -> None:
        if connection.dialect.name != "postgresql" or session.info.pop(_PRESET_KEY, False):
            return
        settings = _settings_of(session)
        if settings["tenant"] or settings["cross"]:
            connection.execute(_apply_statement(settings), settings)
