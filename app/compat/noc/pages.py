"""`page`/`page_size` in, `{items, total, page, page_size}` out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query

from app.compat.noc.shapes import offset_of, page_of
from app.core.pagination import MAX_LIMIT, PageParams


@dataclass(frozen=True, slots=True)
class CompatPage:
    page: int
    page_size: int

    @property
    def params(self) -> PageParams:
        return PageParams(limit=self.page_size, offset=offset_of(self.page, self.page_size))

    def of(
        self, listed: dict[str, Any], item: Callable[[Any], Any] | None = None
    ) -> dict[str, Any]:
        return page_of(listed, self.page, self.page_size, item)


def compat_page(
    page: Annotated[int, Query(ge=1, le=50_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
) -> CompatPage:
    return CompatPage(page, page_size)


CompatPageDep = Annotated[CompatPage, Depends(compat_page)]
