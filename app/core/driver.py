"""A hot read on the driver's own prepared statement, for the few statements run on nearly every
request (a page of outages): SQLAlchemy builds and compiles the statement once per shape, and
each execution goes straight to asyncpg.

What SQLAlchemy does per execution and this skips: the compiled cache's lookup (hashing the
statement's whole cache key), building the parameters and the execution context, and the
result's metadata and row objects (docs/performance.md measured them). What is kept: the
parameters go through each bind type's processor and the rows through each TypeDecorator's
`process_result_value` (money as exact decimals), and asyncpg's statement cache prepares the
statement once per connection. Other databases run the statement through SQLAlchemy as usual.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Select
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import TypeDecorator


@dataclass(frozen=True, slots=True)
class _Prepared:
    sql: str
    names: tuple[str, ...]  # the positional parameters, in order
    defaults: Mapping[str, Any]  # values the statement carries (a LIMIT's constant)
    binds: Mapping[str, Callable[[Any], Any]]  # by name, where the type processes its values
    results: tuple[tuple[int, Callable[[Any], Any]], ...]  # by column, where a type does


@lru_cache(maxsize=512)
def _prepared(statement: Select[Any], dialect: Dialect) -> _Prepared:
    compiled = statement.compile(dialect=dialect)
    binds = {}
    for name, bind in compiled.binds.items():
        processor = bind.type.bind_processor(dialect)
        if processor is not None:
            binds[name] = processor
    results = tuple(
        (index, _result_processor(column.type, dialect))
        for index, column in enumerate(statement.selected_columns)
        if isinstance(column.type, TypeDecorator)
    )
    return _Prepared(
        sql=compiled.string,
        names=tuple(compiled.positiontup or ()),
        defaults={name: bind.value for name, bind in compiled.binds.items() if not bind.required},
        binds=binds,
        results=results,
    )


def _result_processor(kind: TypeDecorator[Any], dialect: Dialect) -> Callable[[Any], Any]:
    def process(value: Any) -> Any:
        return kind.process_result_value(value, dialect)

    return process


async def fetch(
    connection: AsyncConnection, statement: Select[Any], values: Mapping[str, Any]
) -> Sequence[Sequence[Any]]:
    """The statement's rows (indexable by column position), in the connection's transaction."""
    dialect = connection.dialect
    if dialect.name != "postgresql" or dialect.driver != "asyncpg":
        rows: Sequence[Sequence[Any]] = (await connection.execute(statement, dict(values))).all()
        return rows
    prepared = _prepared(statement, dialect)
    arguments = []
    for name in prepared.names:
        value = values[name] if name in values else prepared.defaults[name]
        processor = prepared.binds.get(name)
        arguments.append(processor(value) if processor is not None and value is not None else value)
    records = await _on_driver(connection, "fetch", prepared.sql, *arguments)
    if not prepared.results:
        return records  # type: ignore[no-any-return]
    processed = []
    for record in records:
        row = list(record)
        for index, process in prepared.results:
            row[index] = process(row[index])
        processed.append(row)
    return processed


async def run(connection: AsyncConnection, sql: str) -> None:
    """Statements without parameters or rows (`SET LOCAL ...; SET LOCAL ...`), in one round trip
    of the simple protocol (PostgreSQL only)."""
    await _on_driver(connection, "execute", sql)


async def _on_driver(connection: AsyncConnection, method: str, sql: str, *arguments: Any) -> Any:
    """Calls asyncpg, and fails as SQLAlchemy would have: the driver's error translated and
    wrapped in `sqlalchemy.exc.DBAPIError`, and a lost connection invalidated (so the request
    answers 503, as any other statement's would, and the pool replaces the connection)."""
    raw = await connection.get_raw_connection()
    adapted: Any = raw.dbapi_connection
    try:
        return await getattr(adapted.driver_connection, method)(sql, *arguments)
    except Exception as error:
        dialect = connection.dialect
        try:
            adapted._handle_exception(error)  # raises the DBAPI error SQLAlchemy would see
        except dialect.loaded_dbapi.Error as translated:
            lost = dialect.is_disconnect(translated, adapted, None)
            if lost:
                await connection.invalidate()
            raise DBAPIError.instance(
                sql,
                arguments,
                translated,
                dialect.loaded_dbapi.Error,
                connection_invalidated=lost,
                dialect=dialect,
            ) from error
        raise
