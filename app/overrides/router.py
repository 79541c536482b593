from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Path, Query

from app.core.db import SessionDep
from app.core.pagination import CursorPageParamsDep, Page, paginate
from app.core.routing import APIRouter
from app.identity.dependencies import AdminPrincipal, CurrentPrincipal
from app.overrides import service
from app.overrides.models import MttrOverride
from app.overrides.schemas import OverrideDecision, OverrideOut

router = APIRouter(prefix="/sla/overrides", tags=["SLA"])

OverrideId = Annotated[str, Path(max_length=64, description="An override request (`ovr_...`).")]


@router.get("", response_model=Page[OverrideOut], summary="MTTR override requests")
async def list_overrides(
    principal: CurrentPrincipal,
    session: SessionDep,
    page: CursorPageParamsDep,
    status: Annotated[Literal["pending", "approved", "rejected"] | None, Query()] = None,
    outage_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[OverrideOut]:
    """Newest first. `status=pending` is an approver's queue: claims that wait for a second
    person, each holding its outage's payment."""
    rows, result = await paginate(
        session, service.listing(status, outage_id), page, id_column=MttrOverride.id
    )
    result.results = [OverrideOut.model_validate(row) for row in rows]
    return result


@router.get("/{override_id}", response_model=OverrideOut, summary="One override request")
async def get_override(
    override_id: OverrideId, principal: CurrentPrincipal, session: SessionDep
) -> OverrideOut:
    """A claim, the clock it was measured against, and its decision."""
    return OverrideOut.model_validate(await service.get(session, override_id))


@router.post("/{override_id}/approve", response_model=OverrideOut, summary="Approve a claimed MTTR")
async def approve_override(
    override_id: OverrideId, body: OverrideDecision, principal: AdminPrincipal, session: SessionDep
) -> OverrideOut:
    """The outcome is recomputed with the claimed MTTR (`mttr_source: approved_override`) and
    its payment planned. Admins and owners approve; never the person who made the claim or
    resolved the outage (403). 409 once decided."""
    override = await service.decide(
        session, override_id, principal.actor, approve=True, notes=body.notes
    )
    return OverrideOut.model_validate(override)


@router.post("/{override_id}/reject", response_model=OverrideOut, summary="Reject a claimed MTTR")
async def reject_override(
    override_id: OverrideId, body: OverrideDecision, principal: AdminPrincipal, session: SessionDep
) -> OverrideOut:
    """The measured clock stands; the payment on it, held while the claim waited, is planned.
    The same second-person rule as approving."""
    override = await service.decide(
        session, override_id, principal.actor, approve=False, notes=body.notes
    )
    return OverrideOut.model_validate(override)
