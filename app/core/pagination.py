"""Offset and cursor (keyset) pagination with the contract's response shape."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.errors import ValidationFailed

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


@dataclass(frozen=True, slots=True)
class PageParams:
    limit: int
    offset: int
    cursor: str | None = None


async def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size, 1..200.")] = (
        DEFAULT_LIMIT
    ),
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="Rows to skip.")] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


async def cursor_page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size, 1..200.")] = (
        DEFAULT_LIMIT
    ),
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="Rows to skip.")] = 0,
    cursor: Annotated[
        str | None,
        Query(max_length=200, description="Opaque `next_cursor` of the previous page."),
    ] = None,
) -> PageParams:
    return PageParams(limit=limit, offset=offset, cursor=cursor)


PageParamsDep = Annotated[PageParams, Depends(page_params)]
CursorPageParamsDep = Annotated[PageParams, Depends(cursor_page_params)]


class Page(BaseModel, Generic[T]):
    total: int | None
    limit: int
    offset: int | None
    has_next: bool
    has_previous: bool
    next_offset: int | None
    previous_offset: int | None
    next_cursor: str | None = None
    results: list[T]


def encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = base64.urlsafe_b64decode(padded.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        value = ""
    if not value or len(value) > 64 or not value.replace("_", "").isalnum():
        raise ValidationFailed(
            "Invalid cursor.",
            details={
                "errors": [
                    {"loc": ["query", "cursor"], "msg": "invalid cursor", "type": "value_error"}
                ]
            },
        )
    return value


async def paginate(
    session: AsyncSession,
    stmt: Select[Any],
    params: PageParams,
    *,
    id_column: InstrumentedAttribute[str],
) -> tuple[list[Any], Page[Any]]:
    """Rows newest first. With a cursor, keyset paging on the (time-sortable) id: no count and
    no deep scan. Without one, offset paging with the total."""
    if params.cursor is not None:
        after = decode_cursor(params.cursor)
        rows = list(
            (
                await session.execute(
                    stmt.where(id_column < after).order_by(id_column.desc()).limit(params.limit + 1)
                )
            ).scalars()
        )
        has_next = len(rows) > params.limit
        rows = rows[: params.limit]
        return rows, Page(
            total=None,
            limit=params.limit,
            offset=None,
            has_next=has_next,
            has_previous=True,
            next_offset=None,
            previous_offset=None,
            next_cursor=encode_cursor(rows[-1].id) if has_next and rows else None,
            results=[],
        )
    total = (
        await session.execute(select(func.count()).select_from(stmt.order_by(None).subquery()))
    ).scalar_one()
    rows = list(
        (
            await session.execute(
                stmt.order_by(id_column.desc()).limit(params.limit).offset(params.offset)
            )
        ).scalars()
    )
    has_next = params.offset + len(rows) < total
    return rows, Page(
        total=total,
        limit=params.limit,
        offset=params.offset,
        has_next=has_next,
        has_previous=params.offset > 0,
        next_offset=params.offset + params.limit if has_next else None,
        previous_offset=max(0, params.offset - params.limit) if params.offset > 0 else None,
        next_cursor=encode_cursor(rows[-1].id) if has_next and rows else None,
        results=[],
    )
