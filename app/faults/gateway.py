"""The fault gateway: `/fault`, the path, shapes and error form of the fault API that
collectors were written against (seed 000), over the same services as `/faults`.

Differences from `/faults`, all on purpose: every accepted report is 201 (a repeat folded into
its unresolved fault says so with `folded: true`), and errors are `{type, code, message,
doc_url}` with 400 for a request that is not valid (`app/faults/gateway_errors.py`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, status
from pydantic import Field

from app.core.clock import utcnow
from app.core.db import SessionDep
from app.core.pagination import CursorPageParamsDep, Page, paginate
from app.core.routing import APIRouter
from app.faults import service
from app.faults.models import Fault
from app.faults.router import IntakePrincipal, StatusFilter, present
from app.faults.schemas import FaultCreate, FaultOut
from app.identity.dependencies import Principal, requires
from app.identity.roles import Role

router = APIRouter(prefix="/fault", tags=["Faults"])
PATH = "/fault"
# Collectors read with the key they report with; people with any role.
ReaderPrincipal = Annotated[Principal, requires(Role.viewer, api_key=True)]


class GatewayFaultOut(FaultOut):
    folded: bool = Field(
        description="True when the report repeated an unresolved fault and was counted on it "
        "(`occurrences`) instead of creating one."
    )


@router.post(
    "",
    response_model=GatewayFaultOut,
    status_code=status.HTTP_201_CREATED,
    summary="Create a fault (gateway path)",
)
async def gateway_create_fault(
    body: FaultCreate, principal: IntakePrincipal, session: SessionDep
) -> GatewayFaultOut:
    """`POST /faults` at the gateway path: the same deduplication, correlation and outage
    opening. Every accepted report answers 201; a repeat answers the fault it was folded into,
    with `folded: true`."""
    fault, created = await service.ingest(session, principal.organization_id, principal.actor, body)
    shown = (await present(session, [fault]))[0]
    return GatewayFaultOut(**shown.model_dump(), folded=not created)


@router.get("", response_model=Page[FaultOut], summary="List faults (gateway path)")
async def gateway_list_faults(
    principal: ReaderPrincipal,
    session: SessionDep,
    page: CursorPageParamsDep,
    site: Annotated[
        str | None,
        Query(max_length=255, description="The site view: faults with this ancestor."),
    ] = None,
    recent: Annotated[
        bool, Query(description="The recent view: faults created in the last 24 hours.")
    ] = False,
    status_: Annotated[StatusFilter | None, Query(alias="status")] = None,
    resource_id: Annotated[str | None, Query(max_length=255)] = None,
) -> Page[FaultOut]:
    """Faults, newest first, with the site and recent views as query parameters
    (`?site=site_8a7b…`, `?recent=true`)."""
    since = utcnow() - service.RECENT if recent else None
    stmt = service.filtered(status=status_, resource_id=resource_id, site=site, start=since)
    rows, result = await paginate(session, stmt, page, id_column=Fault.id)
    result.results = await present(session, list(rows))
    return result
