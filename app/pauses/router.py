from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Path, Query, status

from app.core.db import SessionDep
from app.core.pagination import CursorPageParamsDep, Page, paginate
from app.core.routing import APIRouter
from app.identity.dependencies import AdminPrincipal, CurrentPrincipal, EngineerPrincipal
from app.outages.dependencies import OutageDep, OutageId
from app.pauses import service
from app.pauses.models import ClockPause
from app.pauses.schemas import PauseDecision, PauseEnd, PauseOut, PauseStart

router = APIRouter(tags=["Outages"])

PauseId = Annotated[str, Path(max_length=64, description="A clock pause (`pse_...`).")]
PauseStatusFilter = Literal["active", "counted", "pending", "approved", "rejected"]


@router.post(
    "/outages/{outage_id}/pauses",
    status_code=status.HTTP_201_CREATED,
    response_model=PauseOut,
    summary="Pause an open outage's clock",
)
async def pause_clock(
    outage_id: OutageId, body: PauseStart, principal: EngineerPrincipal, session: SessionDep
) -> PauseOut:
    """While paused (waiting for site access, a customer's go-ahead), the outage's time does
    not count towards its MTTR. One pause runs at a time (409); the timeline shows who paused,
    when and why. A pause longer than CLOCK_PAUSE_APPROVAL_MINUTES, or started further back
    than the tolerance, counts only once a second person approves it."""
    return PauseOut.model_validate(await service.start(session, outage_id, principal.actor, body))


@router.get(
    "/outages/{outage_id}/pauses", response_model=Page[PauseOut], summary="An outage's pauses"
)
async def list_outage_pauses(
    outage: OutageDep, session: SessionDep, page: CursorPageParamsDep
) -> Page[PauseOut]:
    """Newest first, running, counted, waiting or decided."""
    rows, result = await paginate(
        session, service.listing(outage.id, None), page, id_column=ClockPause.id
    )
    result.results = [PauseOut.model_validate(row) for row in rows]
    return result


@router.post(
    "/outages/{outage_id}/pauses/{pause_id}/end",
    response_model=PauseOut,
    summary="Resume an outage's clock",
)
async def end_pause(
    outage_id: OutageId,
    pause_id: PauseId,
    body: PauseEnd,
    principal: EngineerPrincipal,
    session: SessionDep,
) -> PauseOut:
    """The clock runs again from `ended_at` (default now). The pause's `status` says whether
    it counts as recorded or waits for approval. Resolving the outage also ends it."""
    pause = await service.end(session, outage_id, pause_id, principal.actor, body)
    return PauseOut.model_validate(pause)


@router.post(
    "/outages/{outage_id}/pauses/{pause_id}/approve",
    response_model=PauseOut,
    summary="Approve a clock pause",
)
async def approve_pause(
    outage_id: OutageId,
    pause_id: PauseId,
    body: PauseDecision,
    principal: AdminPrincipal,
    session: SessionDep,
) -> PauseOut:
    """Its time comes off the MTTR; a resolved outage is settled again on the new clock, and
    its payment, held while the pause waited, is planned. Never by whoever paused or resumed
    it (403)."""
    pause = await service.decide(
        session, outage_id, pause_id, principal.actor, approve=True, notes=body.notes
    )
    return PauseOut.model_validate(pause)


@router.post(
    "/outages/{outage_id}/pauses/{pause_id}/reject",
    response_model=PauseOut,
    summary="Reject a clock pause",
)
async def reject_pause(
    outage_id: OutageId,
    pause_id: PauseId,
    body: PauseDecision,
    principal: AdminPrincipal,
    session: SessionDep,
) -> PauseOut:
    """Its time counts; the held payment is planned on the clock as it was."""
    pause = await service.decide(
        session, outage_id, pause_id, principal.actor, approve=False, notes=body.notes
    )
    return PauseOut.model_validate(pause)


@router.get("/sla/pauses", response_model=Page[PauseOut], summary="Clock pauses")
async def list_pauses(
    principal: CurrentPrincipal,
    session: SessionDep,
    page: CursorPageParamsDep,
    status: Annotated[PauseStatusFilter | None, Query()] = None,
) -> Page[PauseOut]:
    """Every outage's pauses, newest first; `status=pending` is an approver's queue."""
    rows, result = await paginate(
        session, service.listing(None, status), page, id_column=ClockPause.id
    )
    result.results = [PauseOut.model_validate(row) for row in rows]
    return result
