"""Rows of several tables written in one statement (PostgreSQL's data-modifying CTEs).

A hot write (reporting an outage writes the outage, its timeline entry, its event and its
audit row) would otherwise cost one round trip and one pass through the ORM's unit of work
per table. Together they are one statement; a read the caller needs in the same breath (a
threshold) rides along as the statement's result. Constraints between the rows hold: they
are checked at the end of the statement.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Select, Table, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession


async def insert_together(
    session: AsyncSession, rows: list[tuple[type[Any], dict[str, Any]]], *reads: Select[Any]
) -> tuple[Any, ...]:
    """Inserts each (model, values) row, in order, in one statement on the session's
    connection, and returns the scalars the `reads` select (read as of the statement's start:
    they do not see its own rows)."""
    statement = select(*(read.scalar_subquery() for read in reads)) if reads else select(literal(1))
    for index, (model, values) in enumerate(rows):
        table = cast(Table, model.__table__)
        statement = statement.add_cte(insert(table).values(**values).cte(f"w{index}"))
    connection = await session.connection()
    return tuple((await connection.execute(statement)).one())
