"""Payments, SLA terms, previews, disputes and the dashboard, by the NOC frontend's names."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import Depends, Path, Query, status
from pydantic import Field

from app.analytics import router as analytics
from app.compat.noc import shapes
from app.compat.noc.pages import CompatPageDep
from app.compat.noc.routing import compat_router
from app.contracts.engine import Severity
from app.core.db import SessionDep
from app.core.errors import NotFound
from app.core.schemas import InputModel
from app.disputes import router as disputes
from app.disputes import service as dispute_service
from app.disputes.filters import DisputeFilters
from app.disputes.schemas import DisputeCreate, DisputeOut, DisputeResolve
from app.identity.dependencies import (
    AdminPrincipal,
    CurrentPrincipal,
    EngineerPrincipal,
    OperatorPrincipal,
)
from app.outages import service as outages
from app.payments import reconciliation_router as reconciliation
from app.payments import router as payments
from app.payments import service as payment_service
from app.sla import router as sla
from app.sla import service as sla_service
from app.sla.schemas import PreviewRequest

router = compat_router()

DisputeId = Annotated[str, Path(max_length=64)]
Site = Annotated[str | None, Query(min_length=1, max_length=255)]


@router.get("/payments")
async def list_payments(
    principal: CurrentPrincipal,
    session: SessionDep,
    page: CompatPageDep,
    date_from: date | None = None,
    date_to: date | None = None,
    type_: Annotated[Literal["penalty", "reward", "manual"] | None, Query(alias="type")] = None,
    status_: Annotated[
        Literal["pending", "awaiting_signature", "confirmed", "failed"] | None,
        Query(alias="status"),
    ] = None,
) -> dict[str, Any]:
    filters = payment_service.PaymentFilters(
        shapes.day_start(date_from), shapes.day_end(date_to), type_, status_
    )
    listed = await payments.payment_page(session, filters, page.params)
    return page.of(listed.model_dump(mode="json"))


@router.post("/payments/{payment_id}/retry")
async def retry_payment(
    payment_id: Annotated[str, Path(max_length=64)],
    principal: OperatorPrincipal,
    session: SessionDep,
) -> dict[str, Any]:
    retried = await reconciliation.retry_payment(payment_id, principal, session)
    return retried.model_dump(mode="json")


@router.get("/sla/config")
async def get_config(principal: CurrentPrincipal, session: SessionDep) -> dict[str, Any]:
    """The map of severities, without /api/v1's top-level `policy_version` (each severity
    keeps its own)."""
    config = await sla.get_config(principal, session)
    return config.model_dump(mode="json", exclude={"policy_version"})


@router.post("/sla/preview")
async def preview(
    body: PreviewRequest, principal: CurrentPrincipal, session: SessionDep
) -> dict[str, Any]:
    """`amount` signed: negative for a penalty."""
    answer = (await sla.preview(body, principal, session)).model_dump(mode="json")
    return {**answer, "amount": answer["signed_amount"]}


@router.get("/sla/disputes")
async def list_disputes(
    principal: CurrentPrincipal,
    session: SessionDep,
    page: CompatPageDep,
    outage_id: Annotated[str | None, Query(max_length=64)] = None,
    status_: Annotated[
        Literal["open", "resolved", "rejected"] | None, Query(alias="status")
    ] = None,
) -> dict[str, Any]:
    filters = DisputeFilters(status_, outage_id)
    listed = await disputes.list_disputes(principal, session, page.params, filters)
    return page.of(listed.model_dump(mode="json"), shapes.dispute)


class CompatDisputeCreate(InputModel):
    outage_id: Annotated[str, Field(min_length=1, max_length=64)]
    reason: Annotated[str, Field(min_length=3, max_length=5000)]
    claimed_mttr_minutes: Annotated[int, Field(ge=0, le=525_600)] | None = None


@router.post("/sla/disputes", status_code=status.HTTP_201_CREATED)
async def file_dispute(
    body: CompatDisputeCreate, principal: EngineerPrincipal, session: SessionDep
) -> dict[str, Any]:
    """Against the outage's latest SLA result (the frontend does not name it)."""
    outage = await outages.get(session, body.outage_id)
    latest = await sla_service.latest_result(session, outage.id)
    if latest is None:
        raise NotFound("The outage has no SLA result to dispute yet (it is open).")
    created = DisputeCreate(
        outage_id=outage.id,
        sla_result_id=latest.id,
        reason=body.reason,
        claimed_mttr_minutes=body.claimed_mttr_minutes,
    )
    dispute = await dispute_service.file(
        session, principal.organization_id, principal.actor, created
    )
    return shapes.dispute(DisputeOut.model_validate(dispute).model_dump(mode="json"))


class DisputeAction(InputModel):
    action: Literal["resolve", "reject"]
    resolution_note: Annotated[str, Field(max_length=5000)] | None = None
    adjusted_mttr_minutes: Annotated[int, Field(ge=0, le=525_600)] | None = None


@router.patch("/sla/disputes/{dispute_id}")
async def act_on_dispute(
    dispute_id: DisputeId, body: DisputeAction, principal: AdminPrincipal, session: SessionDep
) -> dict[str, Any]:
    """`resolve` accepts the dispute (it needs a corrected MTTR: the dispute's claim or
    `adjusted_mttr_minutes`, else 422), `reject` keeps the outcome."""
    decision = DisputeResolve(
        resolution="accepted" if body.action == "resolve" else "rejected",
        notes=body.resolution_note,
        adjusted_mttr_minutes=body.adjusted_mttr_minutes,
    )
    resolved = await disputes.resolve_dispute(dispute_id, decision, principal, session)
    return shapes.dispute(resolved.model_dump(mode="json"))


def dashboard_query(
    date_from: date | None = None,
    date_to: date | None = None,
    severity: Severity | None = None,
    site: Site = None,
) -> analytics.DashboardQuery:
    """Days, both included, as /api/v1's half-open range."""
    return analytics.DashboardQuery(
        shapes.day_start(date_from), shapes.next_day(date_to), severity, site
    )


DashboardQueryDep = Annotated[analytics.DashboardQuery, Depends(dashboard_query)]


@router.get("/sla/analytics/dashboard")
async def dashboard(
    principal: CurrentPrincipal, session: SessionDep, query: DashboardQueryDep
) -> dict[str, Any]:
    figures = await analytics.sla_dashboard(principal, session, query)
    return shapes.dashboard(figures.model_dump(mode="json"))


@router.get("/sla/analytics/trends")
async def trends(
    principal: CurrentPrincipal, session: SessionDep, query: DashboardQueryDep
) -> list[dict[str, Any]]:
    """One point per UTC day of the range."""
    series = await analytics.sla_trends(principal, session, query, "day")
    return [shapes.trend(point) for point in series.model_dump(mode="json")["series"]]
