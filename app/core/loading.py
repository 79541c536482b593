"""Loading one row by id, or 404. The session's tenant filter applies, so another
organization's id is not found either."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import NotFound

M = TypeVar("M")


async def get_or_404(
    session: AsyncSession,
    model: type[M],
    row_id: str,
    message: str,
    *,
    for_update: bool = False,
) -> M:
    column: Any = model.id  # type: ignore[attr-defined]
    stmt = select(model).where(column == row_id)
    if for_update:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None:
        raise NotFound(message)
    return row
