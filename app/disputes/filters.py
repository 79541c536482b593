"""What a dispute listing is narrowed by: one definition for the list and the export."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import Depends, Query
from sqlalchemy import Select

from app.disputes.models import Dispute

DisputeStatusFilter = Literal["open", "resolved", "rejected"]


@dataclass(frozen=True, slots=True)
class DisputeFilters:
    status: str | None = None
    outage_id: str | None = None

    def apply(self, stmt: Select[Any]) -> Select[Any]:
        if self.status is not None:
            stmt = stmt.where(Dispute.status == self.status)
        if self.outage_id is not None:
            stmt = stmt.where(Dispute.outage_id == self.outage_id)
        return stmt


def dispute_filters(
    status: Annotated[DisputeStatusFilter | None, Query()] = None,
    outage_id: Annotated[
        str | None, Query(max_length=64, description="The disputes of one outage.")
    ] = None,
) -> DisputeFilters:
    return DisputeFilters(status, outage_id)


DisputeFiltersDep = Annotated[DisputeFilters, Depends(dispute_filters)]
