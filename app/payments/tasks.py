"""Background payout work."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.actors import Actor
from app.jobs.models import Job
from app.jobs.registry import job_handler
from app.payments import batches, payout, reconcile
from app.payments.models import PaymentStatus
from app.payments.planning import EXECUTE

RECONCILE = "payments.reconcile"


@job_handler(RECONCILE, max_attempts=3)
async def reconcile_payments(session: AsyncSession, job: Job) -> dict[str, Any]:
    """`POST /payments/reconcile` for an organization with many payments."""
    assert job.organization_id is not None
    actor = Actor(job.payload["actor_type"], job.payload["actor_id"])
    run = await reconcile.run(session, job.organization_id, trigger="api", actor=actor)
    return reconcile.summary(run)


@job_handler(EXECUTE, queue="payouts", max_attempts=10)
async def execute_payment(session: AsyncSession, job: Job) -> dict[str, Any]:
    payment = await payout.load(session, job.payload["payment_id"])
    if payment is None or payment.status != PaymentStatus.pending:
        # Already settled (a batch paid it, or a duplicated message): nothing to do.
        return {
            "payment_id": job.payload["payment_id"],
            "status": payment.status if payment else "missing",
        }
    if batches.applies(session, payment):
        return await batches.execute(session, job, payment)
    return await payout.execute(session, job)
