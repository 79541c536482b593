"""Outages and their import, by the NOC frontend's names."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

import orjson
from fastapi import Query, Request, status
from pydantic import Field

from app.compat.noc import shapes
from app.compat.noc.pages import CompatPage, CompatPageDep
from app.compat.noc.routing import compat_router
from app.contracts.engine import Severity
from app.core.db import SessionDep
from app.core.pagination import TOTAL_CAP
from app.identity.dependencies import CurrentPrincipal, EngineerPrincipal
from app.lifecycle import import_router, listing, presenter, queries
from app.lifecycle.resolve import resolve
from app.outages import service
from app.outages.dependencies import OutageDep, OutageId
from app.outages.schemas import OutageCreate, ResolveRequest

router = compat_router()


class CompatOutageCreate(OutageCreate):
    """The frontend sends the id it made up and `status: open`: both are set here, so the id
    is ignored and only `open` is accepted."""

    id: Annotated[str, Field(max_length=64)] | None = None
    status: Literal["open", "active"] | None = None


@router.get("/outages")
async def list_outages(
    principal: CurrentPrincipal,
    session: SessionDep,
    page: CompatPageDep,
    search: Annotated[str | None, Query(min_length=1, max_length=500)] = None,
    status_: Annotated[
        Literal["open", "active", "investigating", "resolved"] | None, Query(alias="status")
    ] = None,
    severity: Severity | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> dict[str, Any]:
    filters = queries.OutageFilters(
        status=status_,
        severity=severity.value if severity else None,
        start=shapes.day_start(date_from),
        end=shapes.day_end(date_to),
        q=search,
    )
    listed = await listing.page(
        session, principal.organization_id, filters, page.params, total_cap=TOTAL_CAP
    )
    return page.of(orjson.loads(bytes(listed.body)), shapes.outage)


@router.post("/outages", status_code=status.HTTP_201_CREATED)
async def create_outage(
    body: CompatOutageCreate, principal: EngineerPrincipal, session: SessionDep
) -> dict[str, Any]:
    data = OutageCreate.model_validate(body.model_dump(exclude={"id", "status"}))
    outage = await service.create(session, principal.organization_id, principal.actor, data)
    return shapes.outage((await presenter.present_new(session, outage)).model_dump(mode="json"))


@router.get("/outages/bulk/history")
async def import_history(principal: CurrentPrincipal, session: SessionDep) -> list[Any]:
    """The latest 100 imports, newest first."""
    listed = await import_router.list_imports(principal, session, CompatPage(1, 100).params)
    return [shapes.import_history(e.model_dump(mode="json")) for e in listed.results]


@router.post("/outages/bulk", status_code=status.HTTP_201_CREATED)
async def bulk_import(
    request: Request, principal: EngineerPrincipal, session: SessionDep
) -> dict[str, Any]:
    """The frontend's template (`service_id,start_time,end_time`, or /api/v1's columns), the
    valid rows imported and each refused one reported by its row."""
    settings = request.app.state.settings
    checked, source = await import_router.read_import(
        request, settings, "skip", shapes.import_record
    )
    result = await import_router.run_import(session, principal, checked, source, "skip")
    return shapes.import_result(result.model_dump(mode="json"), source.kind)


@router.get("/outages/{outage_id}")
async def get_outage(outage: OutageDep, session: SessionDep) -> dict[str, Any]:
    return shapes.outage((await presenter.present_detail(session, outage)).model_dump(mode="json"))


@router.post("/outages/{outage_id}/resolve")
async def resolve_outage(
    outage_id: OutageId, body: ResolveRequest, principal: EngineerPrincipal, session: SessionDep
) -> dict[str, Any]:
    outage, _ = await resolve(session, outage_id, principal.actor, body)
    detail = await presenter.present_detail(session, outage)
    return shapes.resolved(detail.model_dump(mode="json"))
