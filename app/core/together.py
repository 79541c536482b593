"""Rows of several tables written in one statement (PostgreSQL's data-modifying CTEs).

A hot write (reporting an outage writes the outage, its timeline entry, its event and its
audit row) would otherwise cost one round trip and one pass through the ORM's unit of work
per table. Together they are one statement; a read the caller needs in the same breath (a
threshold) rides along as the statement's result. Constraints between the rows hold: they
are checked at the end of the statement.

The statement is built once per shape (which tables, which columns, which reads) with every
value a bound parameter: SQLAlchemy then compiles it once and asyncpg prepares it once, and a
request only binds its values (building and compiling it per request was a fifth of a create).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Select, Table, bindparam, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

# A read made of bound parameters: given a function that names a parameter (typed like a
# column of a row being inserted, or a free one), the select to read.
Read = Callable[[Callable[..., Any]], Select[Any]]


@dataclass(frozen=True, slots=True)
class Reads:
    """Reads made along with a write, and the values of their own parameters."""

    selects: tuple[Read, ...] = ()
    parameters: dict[str, Any] = field(default_factory=dict)


def _parameter(name: str, type_: Any = None) -> Any:
    return bindparam(name, type_=type_)


@lru_cache(maxsize=256)
def _statement(
    shape: tuple[tuple[Table, tuple[str, ...], tuple[tuple[str, Any], ...]], ...],
    reads: tuple[Read, ...],
) -> Select[Any]:
    """`shape`: per row, its table, the columns bound from values (`r{i}_{column}`), and the
    columns whose value is one of the reads (by the read's index, as a scalar subquery)."""
    selects = [read(_parameter) for read in reads]
    statement = select(*(s.scalar_subquery() for s in selects)) if selects else select(literal(1))
    for index, (table, bound, from_reads) in enumerate(shape):
        values: dict[str, Any] = {
            column: bindparam(f"r{index}_{column}", type_=table.c[column].type) for column in bound
        }
        values.update({column: selects[read].scalar_subquery() for column, read in from_reads})
        statement = statement.add_cte(insert(table).values(**values).cte(f"w{index}"))
    return statement


def together(
    rows: list[tuple[type[Any], dict[str, Any]]],
    reads: tuple[Read, ...] = (),
    *,
    parameters: dict[str, Any] | None = None,
    from_reads: dict[tuple[int, str], int] | None = None,
) -> tuple[Select[Any], dict[str, Any]]:
    """The statement inserting each (model, values) row, in order, and its bound values (see
    `insert_together`); for a caller on the synchronous connection (a session hook)."""
    links = from_reads or {}
    shape = tuple(
        (
            cast(Table, model.__table__),
            tuple(column for column in values if (index, column) not in links),
            tuple((column, read) for (row, column), read in links.items() if row == index),
        )
        for index, (model, values) in enumerate(rows)
    )
    bound = dict(parameters or {})
    for index, (_, values) in enumerate(rows):
        for column, value in values.items():
            if (index, column) not in links:
                bound[f"r{index}_{column}"] = value
    return _statement(shape, reads), bound


async def insert_together(
    session: AsyncSession,
    rows: list[tuple[type[Any], dict[str, Any]]],
    reads: tuple[Read, ...] = (),
    *,
    parameters: dict[str, Any] | None = None,
    from_reads: dict[tuple[int, str], int] | None = None,
) -> tuple[Any, ...]:
    """Inserts each (model, values) row, in order, in one statement on the session's
    connection, and returns the scalars the `reads` select (read as of the statement's start:
    they do not see its own rows). `from_reads` fills a row's column with a read's result
    ((row index, column) -> read index); `parameters` are the reads' own values. `reads` key
    the statement cache: pass the same function objects each time (module-level)."""
    statement, bound = together(rows, reads, parameters=parameters, from_reads=from_reads)
    connection = await session.connection()
    return tuple((await connection.execute(statement, bound)).one())


def read_alone(read: Read) -> Select[Any]:
    """One of the reads as a select of its own (a database without data-modifying CTEs)."""
    return read(_parameter)
