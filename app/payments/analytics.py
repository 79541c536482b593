"""Payment analytics: confirmed money by period."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import dialect_of
from app.core.portable import Granularity, bucket
from app.payments.models import Payment, PaymentStatus


async def payment_trends(
    session: AsyncSession, *, start: datetime | None, end: datetime | None, group_by: Granularity
) -> dict[str, Any]:
    """Sums are exact (stroops in SQL, Decimal out); only confirmed payments count, by the
    moment they were confirmed."""
    conditions = [Payment.status == PaymentStatus.confirmed]
    if start is not None:
        conditions.append(Payment.confirmed_at >= start)
    if end is not None:
        conditions.append(Payment.confirmed_at <= end)
    period = bucket(Payment.confirmed_at, group_by, dialect_of(session)).label("period")
    penalties = func.sum(case((Payment.type == "penalty", Payment.amount), else_=0))
    rewards = func.sum(case((Payment.type == "reward", Payment.amount), else_=0))
    rows = (
        await session.execute(
            select(period, penalties, rewards, func.count())
            .where(*conditions)
            .group_by(period)
            .order_by(period)
        )
    ).all()
    trends = []
    total_penalties = total_rewards = Decimal(0)
    count = 0
    for day, pen, rew, n in rows:
        pen, rew = Decimal(pen or 0), Decimal(rew or 0)
        total_penalties += pen
        total_rewards += rew
        count += n
        trends.append(
            {
                "date": day,
                "penalties": pen,
                "rewards": rew,
                "net": rew - pen,
                "count": n,
            }
        )
    total = total_penalties + total_rewards
    average = (total / count).quantize(Decimal("0.0000001")) if count else Decimal(0)
    return {
        "summary": {
            "total_penalties": total_penalties,
            "total_rewards": total_rewards,
            "net_amount": total_rewards - total_penalties,
            "transaction_count": count,
            "average_transaction_amount": average,
        },
        "trends": trends,
    }
