from __future__ import annotations

from typing import Annotated

from fastapi import Path, Request, status
from fastapi.responses import StreamingResponse
from sqlalchemy import select

from app.core.db import SessionDep
from app.core.errors import AppError
from app.core.exports import EXPORT_RESPONSES, ExportFormat, stream_export
from app.core.pagination import Page, PageParamsDep, paginate
from app.core.routing import APIRouter
from app.disputes import service
from app.disputes.filters import DisputeFiltersDep
from app.disputes.models import Dispute
from app.disputes.schemas import (
    BulkResolve,
    BulkResolveOut,
    DisputeCreate,
    DisputeCreated,
    DisputeOut,
    DisputeResolve,
)
from app.identity.dependencies import AdminPrincipal, CurrentPrincipal, EngineerPrincipal

router = APIRouter(prefix="/sla/disputes", tags=["Disputes"])

DisputeId = Annotated[str, Path(max_length=64)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=DisputeCreated,
    summary="Dispute an SLA outcome",
)
async def file_dispute(
    body: DisputeCreate, principal: EngineerPrincipal, session: SessionDep
) -> DisputeCreated:
    """Against the latest SLA result of an outage; one open dispute per result (409)."""
    dispute = await service.file(session, principal.organization_id, principal.actor, body)
    return DisputeCreated(
        dispute_id=dispute.id, status=dispute.status, created_at=dispute.created_at
    )


@router.get("", response_model=Page[DisputeOut], summary="List disputes")
async def list_disputes(
    principal: CurrentPrincipal,
    session: SessionDep,
    page: PageParamsDep,
    filters: DisputeFiltersDep,
) -> Page[DisputeOut]:
    """Disputes of the organization, newest first; filter by `status` and `outage_id`."""
    rows, result = await paginate(
        session, filters.apply(select(Dispute)), page, id_column=Dispute.id
    )
    result.results = [DisputeOut.model_validate(row) for row in rows]
    return result


# The deprecated `proposed_mttr_minutes` is left out: a new file carries only the current name.
EXPORT_COLUMNS = (
    *(name for name in DisputeOut.model_fields if name != "proposed_mttr_minutes"),
    "claimed_mttr_minutes",
)


@router.get(
    "/export",
    summary="Export disputes as CSV or JSON",
    response_class=StreamingResponse,
    responses=EXPORT_RESPONSES,
)
async def export_disputes(
    request: Request,
    principal: CurrentPrincipal,
    filters: DisputeFiltersDep,
    format: ExportFormat = "csv",
) -> StreamingResponse:
    """Every dispute matching the filters of `GET /sla/disputes`, newest first, streamed (at
    most 100 000 rows), formula-safe CSV."""
    return stream_export(
        database=request.app.state.database,
        organization_id=principal.organization_id,
        statement=filters.apply(select(Dispute)),
        id_column=Dispute.id,
        to_row=lambda _, dispute: DisputeOut.model_validate(dispute).model_dump(
            mode="json", include=set(EXPORT_COLUMNS)
        ),
        columns=EXPORT_COLUMNS,
        format=format,
        name="disputes",
    )


@router.post("/bulk-resolve", response_model=BulkResolveOut, summary="Resolve many disputes")
async def bulk_resolve(
    body: BulkResolve, principal: AdminPrincipal, session: SessionDep
) -> BulkResolveOut:
    """Each dispute is resolved on its own: one that cannot be (closed, unknown) is listed in
    `errors` and the others still go through."""
    resolved: list[DisputeOut] = []
    errors: list[dict[str, str]] = []
    decision = DisputeResolve(
        resolution=body.resolution,
        notes=body.notes,
        adjusted_mttr_minutes=body.adjusted_mttr_minutes,
    )
    for dispute_id in dict.fromkeys(body.dispute_ids):
        try:
            async with session.begin_nested():
                dispute = await service.resolve(session, dispute_id, principal.actor, decision)
            resolved.append(DisputeOut.model_validate(dispute))
        except AppError as exc:
            errors.append({"dispute_id": dispute_id, "code": exc.code, "message": exc.message})
    return BulkResolveOut(resolved=resolved, errors=errors)


@router.get("/{dispute_id}", response_model=DisputeOut, summary="One dispute")
async def get_dispute(
    dispute_id: DisputeId, principal: CurrentPrincipal, session: SessionDep
) -> DisputeOut:
    """One dispute with its outcome and, once accepted, the payment difference."""
    return DisputeOut.model_validate(await service.get(session, dispute_id))


@router.post("/{dispute_id}/resolve", response_model=DisputeOut, summary="Resolve a dispute")
async def resolve_dispute(
    dispute_id: DisputeId, body: DisputeResolve, principal: AdminPrincipal, session: SessionDep
) -> DisputeOut:
    """`accepted` recomputes the outcome with the corrected MTTR (and records the payment
    difference to settle); `rejected` keeps the original outcome."""
    return DisputeOut.model_validate(
        await service.resolve(session, dispute_id, principal.actor, body)
    )
