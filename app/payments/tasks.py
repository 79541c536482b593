"""Background payout work."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.jobs.models import Job
from app.jobs.registry import job_handler
from app.payments import batches, payout
from app.payments.models import PaymentStatus
from app.payments.planning import EXECUTE


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
