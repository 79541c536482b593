"""Background payout work."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.jobs.models import Job
from app.jobs.registry import job_handler
from app.payments import payout
from app.payments.planning import EXECUTE


@job_handler(EXECUTE, queue="payouts", max_attempts=10)
async def execute_payment(session: AsyncSession, job: Job) -> dict[str, Any]:
    return await payout.execute(session, job)
