from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from app.core.db import SessionDep
from app.identity.dependencies import CurrentPrincipal
from app.outages import service
from app.outages.models import Outage

OutageId = Annotated[str, Path(max_length=64, description="An outage id (`out_...`).")]


async def load_outage(
    outage_id: OutageId, principal: CurrentPrincipal, session: SessionDep
) -> Outage:
    """The caller's outage, or 404 (another organization's outage is not found either)."""
    return await service.get(session, outage_id)


OutageDep = Annotated[Outage, Depends(load_outage, scope="function")]
