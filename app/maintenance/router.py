from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, status

from app.core.clock import utcnow
from app.core.db import SessionDep
from app.core.pagination import CursorPageParamsDep, Page, paginate
from app.core.routing import APIRouter
from app.identity.dependencies import AdminPrincipal, CurrentPrincipal
from app.maintenance import service
from app.maintenance.models import MaintenanceWindow
from app.maintenance.schemas import WindowCreate, WindowOut, WindowStatus

router = APIRouter(prefix="/maintenance-windows", tags=["Maintenance"])

WindowId = Annotated[str, Path(max_length=64, description="A maintenance window (`mnt_...`).")]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=WindowOut,
    summary="Book a maintenance window",
)
async def book_window(
    body: WindowCreate, principal: AdminPrincipal, session: SessionDep
) -> WindowOut:
    """Ahead of time, on some sites or all. While it runs, a fault on a covered site is
    recorded but opens no outage (`maintenance_window_id` on the fault), and the time an
    outage of a covered site spends inside it does not count towards its MTTR."""
    window = await service.book(session, principal.organization_id, principal.actor, body)
    return WindowOut.of(window, utcnow())


@router.get("", response_model=Page[WindowOut], summary="Maintenance windows")
async def list_windows(
    principal: CurrentPrincipal,
    session: SessionDep,
    page: CursorPageParamsDep,
    status: Annotated[WindowStatus | None, Query()] = None,
    site: Annotated[str | None, Query(min_length=1, max_length=255)] = None,
) -> Page[WindowOut]:
    """Newest first; `site` lists the windows that cover it (named, or every site)."""
    now = utcnow()
    rows, result = await paginate(
        session, service.listing(status, site, now), page, id_column=MaintenanceWindow.id
    )
    result.results = [WindowOut.of(row, now) for row in rows]
    return result


@router.get("/{window_id}", response_model=WindowOut, summary="One maintenance window")
async def get_window(
    window_id: WindowId, principal: CurrentPrincipal, session: SessionDep
) -> WindowOut:
    """The window and its status now (`scheduled`, `active`, `ended`, `cancelled`)."""
    return WindowOut.of(await service.get(session, window_id), utcnow())


@router.delete("/{window_id}", response_model=WindowOut, summary="Cancel a scheduled window")
async def cancel_window(
    window_id: WindowId, principal: AdminPrincipal, session: SessionDep
) -> WindowOut:
    """Before it starts only (409 after): time a window already took off is not given back
    by deleting it. The window stays listed as `cancelled`."""
    window = await service.cancel(session, window_id, principal.actor)
    return WindowOut.of(window, utcnow())


@router.post("/{window_id}/end", response_model=WindowOut, summary="End an active window now")
async def end_window(
    window_id: WindowId, principal: AdminPrincipal, session: SessionDep
) -> WindowOut:
    """The work finished early: from now on, faults open outages again and time counts."""
    window = await service.end(session, window_id, principal.actor)
    return WindowOut.of(window, utcnow())
