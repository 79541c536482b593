from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import Select, select

from app.audit import service
from app.audit.chaining import chain
from app.audit.schemas import AuditEntryOut, ChainReportOut
from app.core.db import SessionDep
from app.core.exports import EXPORT_RESPONSES, ExportFormat, stream_export
from app.core.pagination import CursorPageParamsDep, Page, paginate
from app.core.routing import APIRouter
from app.core.schemas import AwareDatetime
from app.identity.dependencies import AdminPrincipal, SettingsDep
from app.journal.models import AuditLog

router = APIRouter(prefix="/audit", tags=["Audit"])


@dataclass(frozen=True, slots=True)
class AuditFilters:
    """What the log is narrowed by: one definition for the list and the export."""

    correlation_id: str | None = None
    event_type: str | None = None
    start: datetime | None = None
    end: datetime | None = None

    def apply(self, stmt: Select[Any]) -> Select[Any]:
        if self.correlation_id:
            stmt = stmt.where(AuditLog.correlation_id == self.correlation_id)
        if self.event_type:
            stmt = stmt.where(AuditLog.event_type == self.event_type)
        if self.start:
            stmt = stmt.where(AuditLog.occurred_at >= self.start)
        if self.end:
            stmt = stmt.where(AuditLog.occurred_at <= self.end)
        return stmt


def audit_filters(
    correlation_id: Annotated[str | None, Query(max_length=128)] = None,
    event_type: Annotated[str | None, Query(max_length=64)] = None,
    start: Annotated[AwareDatetime | None, Query()] = None,
    end: Annotated[AwareDatetime | None, Query()] = None,
) -> AuditFilters:
    return AuditFilters(correlation_id, event_type, start, end)


AuditFiltersDep = Annotated[AuditFilters, Depends(audit_filters)]


@router.get("", response_model=Page[AuditEntryOut], summary="The audit log")
async def list_audit(
    request: Request,
    principal: AdminPrincipal,
    session: SessionDep,
    page: CursorPageParamsDep,
    filters: AuditFiltersDep,
) -> Page[AuditEntryOut]:
    """Every state change of the organization, newest first. Append-only: each row carries the
    hash of the previous one (`GET /audit/verify` checks the chain). Rows not chained yet are
    chained first."""
    await chain(request.app.state.database, principal.organization_id)
    stmt = filters.apply(select(AuditLog))
    rows, result = await paginate(session, stmt, page, id_column=AuditLog.id)
    result.results = [AuditEntryOut.model_validate(row) for row in rows]
    return result


EXPORT_COLUMNS = tuple(AuditEntryOut.model_fields)


@router.get(
    "/export",
    summary="Export the audit log as CSV or JSON",
    response_class=StreamingResponse,
    responses=EXPORT_RESPONSES,
)
async def export_audit(
    request: Request,
    principal: AdminPrincipal,
    filters: AuditFiltersDep,
    format: ExportFormat = "csv",
) -> StreamingResponse:
    """Every row matching the filters of `GET /audit`, newest first, with its hashes (a copy
    that `GET /audit/verify`'s chain rule can be re-checked on), streamed (at most 100 000
    rows), formula-safe CSV (`data` as JSON text)."""
    await chain(request.app.state.database, principal.organization_id)
    return stream_export(
        database=request.app.state.database,
        organization_id=principal.organization_id,
        statement=filters.apply(select(AuditLog)),
        id_column=AuditLog.id,
        to_row=lambda _, row: AuditEntryOut.model_validate(row).model_dump(mode="json"),
        columns=EXPORT_COLUMNS,
        format=format,
        name="audit",
    )


@router.get("/verify", response_model=ChainReportOut, summary="Verify the audit hash chain")
async def verify_audit(
    request: Request, principal: AdminPrincipal, session: SessionDep, settings: SettingsDep
) -> ChainReportOut:
    """Links rows not chained yet, then recomputes every row's keyed hash in order and checks
    the chain against its anchors as the ledger shows them (the pool account's transactions,
    read newest first up to `AUDIT_VERIFY_LEDGER_MAX_TRANSACTIONS`), and reports the first
    broken link, if any. Not valid: a row rewritten, rows anchored on the ledger missing, an
    anchor the database records but the ledger does not show, rows older than the anchoring
    interval plus a grace with no anchor, or a ledger that did not answer. The report says
    how far back the ledger was read, and which rows are not anchored yet."""
    await chain(request.app.state.database, principal.organization_id)
    report = await service.verify(session, principal.organization_id, settings)
    return ChainReportOut.model_validate(report)
