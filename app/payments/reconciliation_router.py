"""Reconciling payments with the ledger, and an operator's retry of one payment."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, status
from fastapi.responses import JSONResponse
from sqlalchemy import func, select

from app.core.db import SessionDep
from app.core.loading import get_or_404
from app.core.pagination import CursorPageParamsDep, Page, paginate
from app.core.routing import APIRouter
from app.identity.dependencies import CurrentPrincipal, OperatorPrincipal
from app.jobs import service as jobs
from app.payments import reconcile, service
from app.payments.models import Payment, ReconciliationRun
from app.payments.presenter import present, present_detail
from app.payments.schemas import (
    MismatchOut,
    PaymentDetail,
    PaymentReconciliationOut,
    ReconciliationOut,
)
from app.payments.tasks import RECONCILE
from app.sla.schemas import JobAccepted
from app.stellar.runtime import stellar_of

router = APIRouter(tags=["Payments"])

PaymentId = Annotated[str, Path(max_length=64)]
RunId = Annotated[str, Path(max_length=64, description="A reconciliation run (`rcn_...`).")]
# Up to this many payments with a transaction are compared within the request.
INLINE_LIMIT = 200


@router.post(
    "/payments/reconcile",
    response_model=ReconciliationOut,
    summary="Compare every payment with the ledger",
    responses={
        202: {"model": JobAccepted, "description": "Many payments: runs as a background job."}
    },
)
async def reconcile_payments(principal: OperatorPrincipal, session: SessionDep) -> Any:
    """Every payment that has a transaction, by hash, amount, destination, source and asset:
    `missing_on_ledger`, `failed_on_ledger`, `not_confirmed_here`, `amount_differs`... The
    run is kept (`GET /payments/reconciliations`) and audited; nothing is changed. Over 200
    payments it runs in the background (202 with the job; its result names the run). A
    daily sweep runs the same for every organization; `apexchainx reconcile` from a shell."""
    with_hash = (
        select(func.count()).select_from(Payment).where(Payment.transaction_hash.is_not(None))
    )
    if (await session.execute(with_hash)).scalar_one() > INLINE_LIMIT:
        job = jobs.enqueue(
            session,
            RECONCILE,
            {"actor_type": principal.actor.type, "actor_id": principal.actor.id},
            organization_id=principal.organization_id,
        )
        await session.flush()
        return JSONResponse(
            JobAccepted(job_id=job.id).model_dump(), status_code=status.HTTP_202_ACCEPTED
        )
    run = await reconcile.run(
        session, principal.organization_id, trigger="api", actor=principal.actor
    )
    return ReconciliationOut.model_validate(run)


@router.get(
    "/payments/reconciliations",
    response_model=Page[ReconciliationOut],
    summary="Past reconciliations",
)
async def list_reconciliations(
    principal: CurrentPrincipal, session: SessionDep, page: CursorPageParamsDep
) -> Page[ReconciliationOut]:
    """Newest first, with what each found."""
    rows, result = await paginate(
        session, select(ReconciliationRun), page, id_column=ReconciliationRun.id
    )
    result.results = [ReconciliationOut.model_validate(row) for row in rows]
    return result


@router.get(
    "/payments/reconciliations/{reconciliation_id}",
    response_model=ReconciliationOut,
    summary="One reconciliation",
)
async def get_reconciliation(
    reconciliation_id: RunId, principal: CurrentPrincipal, session: SessionDep
) -> ReconciliationOut:
    """What it compared and what disagreed."""
    run = await get_or_404(
        session, ReconciliationRun, reconciliation_id, "Reconciliation not found."
    )
    return ReconciliationOut.model_validate(run)


@router.post(
    "/payments/{payment_id}/reconcile",
    response_model=PaymentReconciliationOut,
    summary="Compare one payment with the ledger",
)
async def reconcile_payment(
    payment_id: PaymentId, principal: OperatorPrincipal, session: SessionDep
) -> PaymentReconciliationOut:
    """The payment, and whether the ledger agrees with it (the same checks as
    `POST /payments/reconcile`). Nothing is changed."""
    payment = await service.get(session, payment_id)
    found = await reconcile.check_one(session, stellar_of(session), payment)
    return PaymentReconciliationOut(
        payment=present(session, payment),
        matches=not found,
        mismatches=[MismatchOut.model_validate(m, from_attributes=True) for m in found],
    )


@router.post(
    "/payments/{payment_id}/retry", response_model=PaymentDetail, summary="Retry a payment now"
)
async def retry_payment(
    payment_id: PaymentId, principal: OperatorPrincipal, session: SessionDep
) -> PaymentDetail:
    """A failed payment goes again (to and from the wallets registered now; a timed-out one is
    looked up first); a pending one is tried now instead of at its backoff. 409 for one that
    waits for its payer's signature or is confirmed. Audited."""
    payment = await service.retry_now(session, payment_id, principal.actor)
    await session.flush()
    return await present_detail(session, payment)
