from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Query, Request, Response, status
from fastapi.responses import StreamingResponse
from sqlalchemy import select

from app.contracts.engine import Severity
from app.core import planner
from app.core.db import SessionDep
from app.core.exports import EXPORT_RESPONSES, ExportFormat, plain, stream_export
from app.core.pagination import TOTAL_CAP, Page, PageParamsDep
from app.core.routing import APIRouter
from app.core.schemas import AwareDatetime
from app.identity.dependencies import CurrentPrincipal, EngineerPrincipal, Principal, requires
from app.identity.roles import Role
from app.lifecycle import listing, presenter, queries
from app.lifecycle import resolve as resolution
from app.lifecycle.resolve import resolve
from app.lifecycle.schemas import (
    OutageCreated,
    OutageDetail,
    OutageOut,
    OutageUpdated,
    RcaOut,
    TimelineOut,
)
from app.outages import service
from app.outages.dependencies import OutageDep, OutageId
from app.outages.models import Outage
from app.outages.schemas import OutageCreate, OutageUpdate, RcaRequest, ResolveRequest
from app.outages.timeline import entries

router = APIRouter(prefix="/outages", tags=["Outages"])

# Counting every match of a common word across a million outages costs more than the page;
# search totals are exact up to this many, as on most search APIs.
SEARCH_TOTAL_CAP = 1000

StatusFilter = Literal["open", "active", "investigating", "resolved"]
IntakePrincipal = Annotated[Principal, requires(Role.engineer, api_key=True)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=OutageCreated,
    summary="Report an outage",
)
async def create_outage(
    body: OutageCreate, principal: IntakePrincipal, session: SessionDep
) -> OutageCreated:
    """Opens an outage (status `open`); its SLA clock starts at `detected_at` (default now).
    Machine clients may use `X-API-Key`. Emits `outage.created`."""
    outage = await service.create(session, principal.organization_id, principal.actor, body)
    return await presenter.present_new(session, outage)


@router.get("", response_model=Page[OutageOut], summary="List outages")
@planner.switches_off(*queries.WALK_NEWEST_FIRST)
async def list_outages(
    principal: CurrentPrincipal,
    session: SessionDep,
    page: PageParamsDep,
    status_: Annotated[StatusFilter | None, Query(alias="status")] = None,
    severity: Severity | None = None,
    site_name: Annotated[str | None, Query(max_length=255)] = None,
    start_date: AwareDatetime | None = None,
    end_date: AwareDatetime | None = None,
) -> Response:
    """Newest first, each with its live SLA status. `active` is accepted for `open`."""
    filters = queries.OutageFilters(
        status=status_,
        severity=severity.value if severity else None,
        site_name=site_name,
        start=start_date,
        end=end_date,
    )
    return await listing.page(
        session, principal.organization_id, filters, page, total_cap=TOTAL_CAP
    )


@router.get("/search", response_model=Page[OutageOut], summary="Full-text outage search")
async def search_outages(
    request: Request,
    principal: CurrentPrincipal,
    session: SessionDep,
    page: PageParamsDep,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=500,
            description="Words to find in the site name or description; without it, the "
            "search lists (newest first, with the other filters).",
        ),
    ] = None,
    severity: Severity | None = None,
    status_: Annotated[StatusFilter | None, Query(alias="status")] = None,
    start: AwareDatetime | None = None,
    end: AwareDatetime | None = None,
) -> Response:
    """Every word must appear (PostgreSQL full-text index; substring match on SQLite)."""
    filters = queries.OutageFilters(
        status=status_, severity=severity.value if severity else None, start=start, end=end, q=q
    )
    return await listing.page(
        session, principal.organization_id, filters, page, total_cap=SEARCH_TOTAL_CAP
    )


EXPORT_COLUMNS = (
    *("id", "site_name", "site_id", "severity", "status", "description", "services_affected"),
    *("affected_subscribers", "region", "assigned_to", "created_by", "detected_at"),
    *("resolved_at", "mttr_minutes", "mttr_source", "contract_id", "created_at"),
)


@router.get(
    "/export",
    summary="Export outages as CSV or JSON",
    response_class=StreamingResponse,
    responses=EXPORT_RESPONSES,
)
async def export_outages(
    request: Request,
    principal: CurrentPrincipal,
    format: ExportFormat = "csv",
    severity: Severity | None = None,
    status_: Annotated[StatusFilter | None, Query(alias="status")] = None,
    site_name: Annotated[str | None, Query(max_length=255)] = None,
    start_date: AwareDatetime | None = None,
    end_date: AwareDatetime | None = None,
) -> StreamingResponse:
    """Every outage matching the filters of `GET /outages`, newest first, streamed (at most
    100 000 rows), formula-safe CSV."""
    statement = select(Outage)
    if severity is not None:
        statement = statement.where(Outage.severity == severity.value)
    if status_ is not None:
        statement = statement.where(Outage.status == service.STATUS_ALIASES.get(status_, status_))
    if site_name is not None:
        statement = statement.where(Outage.site_name == site_name)
    if start_date is not None:
        statement = statement.where(Outage.created_at >= start_date)
    if end_date is not None:
        statement = statement.where(Outage.created_at <= end_date)
    return stream_export(
        database=request.app.state.database,
        organization_id=principal.organization_id,
        statement=statement,
        id_column=Outage.id,
        to_row=lambda _, outage: plain(outage, EXPORT_COLUMNS),
        columns=EXPORT_COLUMNS,
        format=format,
        name="outages",
    )


@router.get("/{outage_id}", response_model=OutageDetail, summary="One outage, in full")
async def get_outage(outage: OutageDep, session: SessionDep) -> OutageDetail:
    """Timeline, live SLA status (`time_remaining_minutes` while open), latest SLA result,
    root cause analysis and payment."""
    return await presenter.present_detail(session, outage)


async def _update(
    outage_id: str, body: OutageUpdate, principal: Principal, session: Any
) -> OutageUpdated:
    outage, resolved = await resolution.update(session, outage_id, principal.actor, body)
    detail = await presenter.present_detail(session, outage)
    return OutageUpdated(**dict(detail), sla_triggered=resolved)


@router.patch("/{outage_id}", response_model=OutageUpdated, summary="Change an open outage")
async def patch_outage(
    outage_id: OutageId, body: OutageUpdate, principal: EngineerPrincipal, session: SessionDep
) -> OutageUpdated:
    """Only the given fields change. Open outages only (409 once resolved). Raising the
    severity writes an `escalated` timeline entry; a new `assigned_to` emits
    `outage.assigned`. `status: resolved` (with `resolved_at`, `root_cause`,
    `resolution_notes`, `mttr_minutes`) resolves the outage as `POST .../resolve` does, in
    the same transaction, and answers `sla_triggered: true`."""
    return await _update(outage_id, body, principal, session)


@router.put("/{outage_id}", response_model=OutageUpdated, summary="Change an open outage")
async def put_outage(
    outage_id: OutageId, body: OutageUpdate, principal: EngineerPrincipal, session: SessionDep
) -> OutageUpdated:
    """The same as PATCH: only the given fields change; `status: resolved` resolves."""
    return await _update(outage_id, body, principal, session)


@router.post("/{outage_id}/resolve", response_model=OutageDetail, summary="Resolve an outage")
async def resolve_outage(
    outage_id: OutageId,
    body: ResolveRequest,
    principal: EngineerPrincipal,
    session: SessionDep,
) -> OutageDetail:
    """In one transaction: status, `resolved_at`, MTTR (default: `resolved_at - detected_at`
    rounded up to whole minutes), the SLA result, timeline, audit, events and the payout that
    follows. A second resolve is 409."""
    outage, _ = await resolve(session, outage_id, principal.actor, body)
    return await presenter.present_detail(session, outage)


@router.post("/{outage_id}/rca", response_model=RcaOut, summary="Attach a root cause analysis")
async def add_rca(
    outage_id: OutageId, body: RcaRequest, principal: EngineerPrincipal, session: SessionDep
) -> RcaOut:
    """Resolved outages only; posting again revises the analysis."""
    return RcaOut.model_validate(await service.rca(session, outage_id, principal.actor, body))


@router.get(
    "/{outage_id}/timeline", response_model=list[TimelineOut], summary="The outage's timeline"
)
async def get_timeline(outage: OutageDep, session: SessionDep) -> list[TimelineOut]:
    """Ordered, immutable entries, each with a `schema_version`."""
    return [TimelineOut.model_validate(e) for e in await entries(session, outage.id)]
