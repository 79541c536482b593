from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from sqlalchemy import select

from app.audit import service
from app.audit.chaining import chain
from app.audit.models import AuditLog
from app.audit.schemas import AuditEntryOut, ChainReportOut
from app.auth.dependencies import AdminPrincipal, SettingsDep
from app.core.pagination import CursorPageParamsDep, Page, paginate
from app.core.routing import APIRouter
from app.core.schemas import AwareDatetime
from app.db import SessionDep

router = APIRouter(prefix="/audit", tags=["Audit"])


@router.get("", response_model=Page[AuditEntryOut], summary="The audit log")
async def list_audit(
    request: Request,
    principal: AdminPrincipal,
    session: SessionDep,
    page: CursorPageParamsDep,
    correlation_id: Annotated[str | None, Query(max_length=128)] = None,
    event_type: Annotated[str | None, Query(max_length=64)] = None,
    start: Annotated[AwareDatetime | None, Query()] = None,
    end: Annotated[AwareDatetime | None, Query()] = None,
) -> Page[AuditEntryOut]:
    """Every state change of the organization, newest first. Append-only: each row carries the
    hash of the previous one (`GET /audit/verify` checks the chain). Rows not chained yet are
    chained first."""
    await chain(request.app.state.database, principal.organization_id)
    stmt = select(AuditLog)
    if correlation_id:
        stmt = stmt.where(AuditLog.correlation_id == correlation_id)
    if event_type:
        stmt = stmt.where(AuditLog.event_type == event_type)
    if start:
        stmt = stmt.where(AuditLog.occurred_at >= start)
    if end:
        stmt = stmt.where(AuditLog.occurred_at <= end)
    rows, result = await paginate(session, stmt, page, id_column=AuditLog.id)
    result.results = [AuditEntryOut.model_validate(row) for row in rows]
    return result


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
