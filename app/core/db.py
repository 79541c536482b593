"""The async engine, the session factory, the declarative base and portable column types."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any

import orjson
from fastapi import Depends, Request
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    MetaData,
    Text,
    TypeDecorator,
    event,
    or_,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.sql.functions import FunctionElement

from app.config import Settings

if TYPE_CHECKING:
    from app.audit.chaining import Chainers
from app.core.clock import utcnow
from app.core.tenancy import install_tenant_settings
from app.core.unit_of_work import adopt_request_session, install_commit_guard

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on every backend (SQLite keeps no offset, so it is restored here)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; attach a timezone")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


STROOPS_PER_UNIT = 10_000_000


class Money(TypeDecorator[Decimal]):
    """USDC as an exact integer count of stroops (10^-7, Stellar's precision).

    Integers are exact on every backend (SQLite has no decimal type), and SQL sums of them
    stay exact: `func.sum(col)` comes back through this type as a Decimal.
    """

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | int | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        stroops = Decimal(value) * STROOPS_PER_UNIT
        if stroops != stroops.to_integral_value():
            raise ValueError("USDC amounts have at most 7 decimal places")
        return int(stroops)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return (Decimal(int(value)) / STROOPS_PER_UNIT).quantize(Decimal("0.0000001"))


JSONType = JSON().with_variant(JSONB(), "postgresql")
# For a column where null means something ("every site"): Python's None is stored as SQL NULL,
# not as the JSON value `null`, so `IS NULL` finds it.
NullableJSONType = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


def json_array_has(column: Any, value: str) -> Any:
    """SQL: the JSON array of strings in `column` has `value` as an element, on PostgreSQL
    (whose text of an array is `["a", "b"]`) and SQLite (`["a","b"]`, as orjson writes it)
    alike. The element is matched with the delimiters around it, so `"bar"` inside
    `"foo\\"bar"` does not count."""
    quoted = json.dumps(value, ensure_ascii=False)
    for special in ("\\", "%", "_"):
        quoted = quoted.replace(special, "\\" + special)
    as_text = column.cast(Text)
    shapes = ("[{}]", "[{},%", "%,{}]", "%, {}]", "%,{},%", "%, {},%")
    return or_(*(as_text.like(shape.format(quoted), escape="\\") for shape in shapes))


class json_array_contains(FunctionElement[bool]):  # noqa: N801  (an SQL function's name)
    """SQL: the JSON array in a column has an element equal to a value or bound parameter,
    on both databases (PostgreSQL's containment on JSONB, SQLite's json_each)."""

    type = Boolean()
    name = "json_array_contains"
    inherit_cache = True


@compiles(json_array_contains, "postgresql")
def _contains_on_postgresql(element: Any, compiler: Any, **kw: Any) -> str:
    column, value = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"({column} @> jsonb_build_array({value}))"


@compiles(json_array_contains, "sqlite")
def _contains_on_sqlite(element: Any, compiler: Any, **kw: Any) -> str:
    column, value = (compiler.process(clause, **kw) for clause in element.clauses)
    # Compiled SQL of the two clauses (bound parameters stay parameters), not values.
    return f"EXISTS (SELECT 1 FROM json_each({column}) WHERE json_each.value = {value})"  # noqa: S608


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        datetime: UTCDateTime(),
        Decimal: Money(),
        dict[str, Any]: JSONType,
        list[str]: JSONType,
    }


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _server_settings(settings: Settings) -> dict[str, str]:
    """Set by the driver when a connection opens, with no statement of ours.

    Every connection acts as the application role, to which row-level security applies (the
    login user may own the tables or be a superuser, which it would not apply to). JIT is off:
    the API's statements are short, and compiling one costs more than it saves.

    Plans are generic from the first execution of each prepared statement: they do not depend
    on what the statistics say of one organization (nothing, right after a bulk load: a
    custom plan then took a million-outage organization for a few hundred rows and read all
    of it for one page), and a statement is planned once per connection, not five times.
    See docs/decisions/0012-generic-plans.md.
    """
    values = {"jit": "off", "plan_cache_mode": "force_generic_plan"}
    if settings.database_role:
        values["role"] = settings.database_role
    return values


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


# JSON columns go through orjson (the stdlib's json costs several times more per row).
JSON_CODEC: dict[str, Any] = {"json_serializer": _json_text, "json_deserializer": orjson.loads}


def create_engine(settings: Settings, *, system: bool = False) -> AsyncEngine:
    """The requests' engine, or (`system`) the engine of background work that crosses tenants:
    its own login when `DATABASE_SYSTEM_URL` is set, acting as the system role."""
    if settings.is_sqlite:
        engine = create_async_engine(settings.database_url, hide_parameters=True, **JSON_CODEC)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    url = (settings.database_system_url or settings.database_url) if system else None
    engine = create_async_engine(
        url or settings.database_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        # No pre-ping: it costs a round trip per request. A connection found dead answers
        # that request with 503 and is discarded; the next request gets a fresh one.
        pool_recycle=1800,
        # Errors must never carry bound values (password hashes, token hashes) into logs.
        hide_parameters=True,
        pool_timeout=5,
        connect_args={
            "timeout": 5,
            "command_timeout": 30,
            "server_settings": _server_settings(settings),
        },
        **JSON_CODEC,
    )
    return engine


class Database:
    """The engine and session factory of one application instance."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = create_engine(settings)
        # Set when first needed by app.stellar.runtime.
        self.stellar: Any = None
        # A Session subclass of its own, so event hooks installed for this database (job
        # hand-off after commit) do not leak into another instance's sessions.
        self.session_class: type[Session] = type("AppSession", (Session,), {})
        self.sessionmaker = async_sessionmaker(
            self.engine,
            expire_on_commit=False,
            sync_session_class=self.session_class,
            info={"database": self},
        )
        # Background work crossing tenants: on a login of its own when DATABASE_SYSTEM_URL
        # is set (production), on the requests' pool otherwise.
        self.system_engine = (
            create_engine(settings, system=True) if settings.database_system_url else self.engine
        )
        self.system_sessionmaker = async_sessionmaker(
            self.system_engine,
            expire_on_commit=False,
            sync_session_class=self.session_class,
            info={"database": self},
        )
        install_tenant_settings(self.session_class)
        install_commit_guard(self.session_class)
        # The chainers of the audit rows its commits write (app/background.py installs them
        # with the journal's and the fan-out's hooks).
        self.chainers: Chainers | None = None

    @cached_property
    def lock_engine(self) -> AsyncEngine:
        """Connections that only hold session-level advisory locks (app/core/locks.py)."""
        return create_async_engine(
            self.settings.database_url,
            pool_size=2,
            max_overflow=20,
            pool_recycle=1800,
            hide_parameters=True,
            connect_args={"timeout": 5},
        )

    async def dispose(self) -> None:
        if self.chainers is not None:
            await self.chainers.wait()
        await self.engine.dispose()
        if self.system_engine is not self.engine:
            await self.system_engine.dispose()
        if "lock_engine" in self.__dict__:
            await self.lock_engine.dispose()


async def refuse_rls_bypass(database: Database) -> None:
    """Row-level security does not apply to superusers, to roles with BYPASSRLS, or to tables
    a role owns without FORCE: connections acting as such a role would see every tenant. The
    service refuses to start rather than run without its second wall.

    In production it also refuses a requests' login that could climb out of the application
    role: a superuser (`RESET ROLE` returns to it) or a member of the system role (it could
    switch cross-tenant reads on). docs/operations.md lists the roles to create."""
    if database.engine.dialect.name != "postgresql":
        return
    settings = database.settings
    async with database.engine.connect() as connection:
        bypass, login_is_superuser, login_crosses = (
            await connection.execute(_ROLE_CHECK, {"system": settings.database_system_role})
        ).one()
    if bypass:
        raise RuntimeError(
            "The database role this service acts as bypasses row-level security (a superuser "
            "or BYPASSRLS): set DATABASE_ROLE to the application role the migrations create."
        )
    if settings.is_production and (login_is_superuser or login_crosses):
        raise RuntimeError(
            "DATABASE_URL's login may become a superuser or the system role: give the service "
            "a login that is a member of the application role only, and background work a "
            "login of its own in DATABASE_SYSTEM_URL (docs/operations.md, database roles)."
        )


_ROLE_CHECK = text(
    """
    SELECT acting.rolsuper OR acting.rolbypassrls,
           login.rolsuper,
           EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :system)
               AND pg_has_role(session_user, (SELECT oid FROM pg_roles WHERE rolname = :system),
                               'MEMBER')
    FROM pg_roles acting, pg_roles login
    WHERE acting.rolname = current_user AND login.rolname = session_user
    """
)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's session. Its unit of work (`app.core.routing.UnitOfWorkRoute`) commits it
    once the response is rendered and before it is sent; anything left open is rolled back
    when the session closes."""
    database: Database = request.app.state.database
    async with database.sessionmaker() as session:
        adopt_request_session(request, session)
        yield session


def database_of(session: AsyncSession) -> Database:
    """The instance a session belongs to: services reach settings and adapters through it."""
    database: Database = session.info["database"]
    return database


def settings_of(session: AsyncSession) -> Settings:
    return database_of(session).settings


def dialect_of(session: AsyncSession) -> str:
    return str(session.get_bind().dialect.name)


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
