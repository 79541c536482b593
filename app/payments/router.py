from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Path, Query, Request, status
from fastapi.responses import StreamingResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import SessionDep
from app.core.errors import Conflict
from app.core.exports import EXPORT_RESPONSES, ExportFormat, stream_export
from app.core.loading import get_or_404
from app.core.pagination import PageParams, PageParamsDep, paginate
from app.core.routing import APIRouter
from app.core.schemas import AwareDatetime, PeriodOut
from app.identity.dependencies import AdminPrincipal, CurrentPrincipal, OperatorPrincipal
from app.outages.models import Outage
from app.payments import service
from app.payments.analytics import payment_trends
from app.payments.models import Payment
from app.payments.presenter import present, present_detail
from app.payments.schemas import (
    ExecuteRequest,
    PaymentAnalyticsOut,
    PaymentDetail,
    PaymentHistoryOut,
    PaymentOut,
    PaymentPage,
    PaymentSummary,
    ProcessOut,
    ProcessRequest,
    SignedRequest,
    SlaOutcomeOut,
    TriggerRequest,
)
from app.sla import service as sla
from app.sla.models import SlaResult

router = APIRouter(tags=["Payments"])

PaymentId = Annotated[str, Path(max_length=64)]


def _process_out(
    session: AsyncSession, outage: Outage, result: SlaResult, payment: Payment | None
) -> ProcessOut:
    return ProcessOut(
        outage_id=outage.id,
        sla_result=SlaOutcomeOut.model_validate(result, from_attributes=True),
        payment=present(session, payment) if payment else None,
    )


async def _outage(session: AsyncSession, outage_id: str) -> Outage:
    # Locked: two concurrent triggers of one outage run one after the other.
    return await get_or_404(session, Outage, outage_id, "Outage not found.", for_update=True)


@router.post(
    "/payments/process-sla",
    response_model=ProcessOut,
    summary="Compute and pay an outage's SLA outcome",
)
async def process_sla(
    body: ProcessRequest, principal: AdminPrincipal, session: SessionDep
) -> ProcessOut:
    """Idempotent: the outage's latest SLA result (computed if needed) and its payment (planned
    if needed). The payout runs in the background; follow it at `GET /payments/{id}`."""
    outage = await _outage(session, body.outage_id)
    await service.adopt_wallets(
        session, outage.organization_id, principal.actor, body.operator_wallet, body.ops_team_wallet
    )
    result, payment = await service.process_outage(session, outage, principal.actor)
    return _process_out(session, outage, result, payment)


@router.post(
    "/payments/trigger", response_model=ProcessOut, summary="Trigger or retry an outage's payout"
)
async def trigger(
    body: TriggerRequest, principal: AdminPrincipal, session: SessionDep
) -> ProcessOut:
    """Retries a failed payout (a missing wallet, a missing trustline, a timeout) once the cause
    is fixed. Wallets given here must be the registered ones; an entity with none registered
    gets the given one."""
    outage = await _outage(session, body.outage_id)
    result, payment = await service.trigger(
        session, outage, principal.actor, body.operator_wallet, body.ops_team_wallet
    )
    return _process_out(session, outage, result, payment)


@router.post(
    "/sla/execute-payment", response_model=PaymentOut, tags=["SLA"], summary="Pay an SLA result"
)
async def execute_payment(
    body: ExecuteRequest, principal: AdminPrincipal, session: SessionDep
) -> PaymentOut:
    """Idempotent: returns the result's payment if it already has one. With `outage_id`
    instead (the seed's other body), pays the outage's latest result, or retries its failed
    payout, as `POST /payments/trigger` does. Wallets given must be the registered ones."""
    wallets = (body.operator_wallet, body.ops_team_wallet)
    if body.outage_id is not None:
        outage = await _outage(session, body.outage_id)
        result, payment = await service.trigger(session, outage, principal.actor, *wallets)
    else:
        result = await sla.result_by_id(session, body.sla_result_id or "")
        await service.adopt_wallets(session, principal.organization_id, principal.actor, *wallets)
        payment = await service.execute_for_result(session, result, principal.actor)
    if payment is None:
        raise Conflict(
            "Nothing is left to pay for this SLA result.", details={"sla_result_id": result.id}
        )
    return present(session, payment)


PaymentType = Annotated[Literal["penalty", "reward", "manual"] | None, Query(alias="type")]
PaymentStatusFilter = Annotated[
    Literal["pending", "awaiting_signature", "confirmed", "failed"] | None, Query(alias="status")
]


def payment_filters(
    start_date: AwareDatetime | None = None,
    end_date: AwareDatetime | None = None,
    type_: PaymentType = None,
    status_: PaymentStatusFilter = None,
) -> service.PaymentFilters:
    """What a payment listing is narrowed by: one definition for the lists and the export."""
    return service.PaymentFilters(start_date, end_date, type_, status_)


PaymentFiltersDep = Annotated[service.PaymentFilters, Depends(payment_filters)]


@router.get("/payments", response_model=PaymentPage, summary="Payment history")
async def list_payments(
    principal: CurrentPrincipal,
    session: SessionDep,
    filters: PaymentFiltersDep,
    page: PageParamsDep,
) -> PaymentPage:
    """Newest first. `summary` totals the confirmed payments that match the filters."""
    return await payment_page(session, filters, page)


@router.get(
    "/payments/history",
    name="payment_history",
    response_model=PaymentHistoryOut,
    summary="Payment history (the seed's shape)",
)
async def payment_history(
    principal: CurrentPrincipal,
    session: SessionDep,
    filters: PaymentFiltersDep,
    page: PageParamsDep,
) -> PaymentHistoryOut:
    """`GET /payments` with the page's items also under the seed's name, `transactions`."""
    listed = await payment_page(session, filters, page)
    return PaymentHistoryOut(**dict(listed), transactions=listed.results)


EXPORT_COLUMNS = tuple(
    name for name in PaymentOut.model_fields if name not in ("attempt_log", "attempts")
)


@router.get(
    "/payments/export",
    summary="Export payments as CSV or JSON",
    response_class=StreamingResponse,
    responses=EXPORT_RESPONSES,
)
async def export_payments(
    request: Request,
    principal: CurrentPrincipal,
    filters: PaymentFiltersDep,
    format: ExportFormat = "csv",
) -> StreamingResponse:
    """Every payment matching the filters of `GET /payments`, newest first, streamed (at most
    100 000 rows), formula-safe CSV."""
    return stream_export(
        database=request.app.state.database,
        organization_id=principal.organization_id,
        statement=filters.apply(select(Payment)),
        id_column=Payment.id,
        to_row=lambda session, payment: present(session, payment).model_dump(
            mode="json", include=set(EXPORT_COLUMNS)
        ),
        columns=EXPORT_COLUMNS,
        format=format,
        name="payments",
    )


async def payment_page(
    session: AsyncSession, filters: service.PaymentFilters, page: PageParams
) -> PaymentPage:
    rows, result = await paginate(
        session, filters.apply(select(Payment)), page, id_column=Payment.id
    )
    totals = await service.summary(session, filters)
    return PaymentPage(
        **result.model_dump(exclude={"results"}),
        results=[present(session, row) for row in rows],
        summary=PaymentSummary(**totals),
    )


@router.get(
    "/payments/{payment_id}", response_model=PaymentDetail, summary="One payment and its attempts"
)
async def get_payment(
    payment_id: PaymentId, principal: CurrentPrincipal, session: SessionDep
) -> PaymentDetail:
    """One payment with its attempt log (issued, unknown, refused, found, confirmed, failed);
    while it awaits the payer's signature, `unsigned_xdr`; while pending, why
    (`pending_reason`) and when its job runs next (`next_attempt_at`)."""
    return await present_detail(session, await service.get(session, payment_id))


@router.post(
    "/payments/{payment_id}/signed",
    response_model=PaymentOut,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Hand back a penalty envelope signed by the payer",
)
async def submit_signed(
    payment_id: PaymentId, body: SignedRequest, principal: OperatorPrincipal, session: SessionDep
) -> PaymentOut:
    """The envelope must be exactly the one issued (`unsigned_xdr`), signed by the paying
    account; it is then submitted in the background."""
    payment = await service.accept_signed(session, payment_id, body.signed_xdr, principal.actor)
    return present(session, payment)


@router.get(
    "/analytics/payments",
    response_model=PaymentAnalyticsOut,
    tags=["Analytics"],
    summary="Payment analytics",
)
async def payment_analytics(
    principal: CurrentPrincipal,
    session: SessionDep,
    start_date: AwareDatetime | None = None,
    end_date: AwareDatetime | None = None,
    group_by: Literal["day", "week", "month"] = "day",
) -> PaymentAnalyticsOut:
    """Confirmed payments by day, week or month: penalties, rewards, net and count, with a
    summary."""
    stats = await payment_trends(session, start=start_date, end=end_date, group_by=group_by)
    return PaymentAnalyticsOut.model_validate(
        {"period": PeriodOut(start=start_date, end=end_date), "group_by": group_by, **stats}
    )
