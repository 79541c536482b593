"""Offset and cursor (keyset) pagination with the contract's response shape."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.core.errors import ValidationFailed

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
TOTAL_CAP = 1_000
# A cursor is the id of the last row of the previous page: every string of this shape is a
# position in the keyset, so the document can state the whole rule.
CURSOR_PATTERN = r"^[A-Za-z0-9_]{1,64}$"
_CURSOR = re.compile(CURSOR_PATTERN)


@dataclass(frozen=True, slots=True)
class PageParams:
    limit: int
    offset: int
    cursor: str | None = None


async def cursor_page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size, 1..200.")] = (
        DEFAULT_LIMIT
    ),
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="Rows to skip.")] = 0,
    cursor: Annotated[
        str | None,
        Query(
            max_length=64,
            pattern=CURSOR_PATTERN,
            description="`next_cursor` of the previous page (the last id it showed).",
        ),
    ] = None,
) -> PageParams:
    return PageParams(limit=limit, offset=offset, cursor=cursor)


# Every list that answers a `next_cursor` accepts it back (a client following it otherwise
# got its first page forever).
PageParamsDep = Annotated[PageParams, Depends(cursor_page_params)]
CursorPageParamsDep = PageParamsDep


class Page(BaseModel, Generic[T]):
    total: int | None = Field(
        description="Matching rows, exact up to 1 000, then 1 000 "
        "with `total_exact: false`. Null on cursor pages."
    )
    total_exact: bool = True
    limit: int
    offset: int | None
    has_next: bool
    has_previous: bool
    next_offset: int | None
    previous_offset: int | None
    next_cursor: str | None = None
    results: list[T]


def encode_cursor(last_id: str) -> str:
    return last_id


def decode_cursor(cursor: str) -> str:
    if not _CURSOR.match(cursor):
        raise ValidationFailed(
            "Invalid cursor.",
            details={
                "errors": [
                    {"loc": ["query", "cursor"], "msg": "invalid cursor", "type": "value_error"}
                ]
            },
        )
    return cursor


async def _fetch(session: AsyncSession, stmt: Select[Any], limit: int) -> tuple[list[Any], bool]:
    """One row more than asked: whether there is a next page, without counting."""
    rows = list((await session.execute(stmt.limit(limit + 1))).scalars())
    return rows[:limit], len(rows) > limit


async def count_up_to(session: AsyncSession, stmt: Select[Any], cap: int) -> tuple[int, bool]:
    """(count, exact): exact up to `cap`; past it, counting every match of a million-row table
    would cost more than the page itself, so the count stops there (as search engines do)."""
    bounded = stmt.order_by(None).limit(cap + 1).subquery()
    total = int((await session.execute(select(func.count()).select_from(bounded))).scalar_one())
    return (total, True) if total <= cap else (cap, False)


async def paginate(
    session: AsyncSession,
    stmt: Select[Any],
    params: PageParams,
    *,
    id_column: InstrumentedAttribute[str],
    total_cap: int = TOTAL_CAP,
) -> tuple[list[Any], Page[Any]]:
    """Rows newest first. With a cursor, keyset paging on the (time-sortable) id: no count and
    no deep scan. Without one, offset paging with the total (exact up to TOTAL_CAP)."""
    ordered = stmt.order_by(id_column.desc())
    if params.cursor is not None:
        after = decode_cursor(params.cursor)
        rows, has_next = await _fetch(session, ordered.where(id_column < after), params.limit)
        return rows, Page(
            total=None,
            total_exact=False,
            limit=params.limit,
            offset=None,
            has_next=has_next,
            has_previous=True,
            next_offset=None,
            previous_offset=None,
            next_cursor=encode_cursor(rows[-1].id) if has_next and rows else None,
            results=[],
        )
    rows, has_next = await _fetch(session, ordered.offset(params.offset), params.limit)
    total, exact = await count_up_to(session, stmt, total_cap)
    return rows, Page(
        total=total,
        total_exact=exact,
        limit=params.limit,
        offset=params.offset,
        has_next=has_next,
        has_previous=params.offset > 0,
        next_offset=params.offset + params.limit if has_next else None,
        previous_offset=max(0, params.offset - params.limit) if params.offset > 0 else None,
        next_cursor=encode_cursor(rows[-1].id) if has_next and rows else None,
        results=[],
    )
