"""The SLA clock: a periodic sweep over open outages that emits `sla.at_risk` once when an
outage passes 80% of its threshold and `sla.violated` once when it passes the threshold.

"Once" holds across instances: each notice is claimed by a conditional UPDATE (`... WHERE
at_risk_notified_at IS NULL`), so two sweeps running together emit it a single time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.contracts.engine import clock
from app.contracts.models import SlaPolicy
from app.core.actors import SYSTEM
from app.core.clock import isoformat, utcnow
from app.core.db import Database
from app.core.tenancy import system_session
from app.journal import journal
from app.journal.entries import Change, Note
from app.outages.models import Outage, OutageStatus
from app.outages.service import summary
from app.sla.exclusions import ClockOf, excluded_seconds

BATCH = 2000


async def sweep(database: Database) -> int:
    """Returns how many notices were emitted."""
    now = utcnow()
    async with system_session(database, "SLA clock over every organization") as session:
        rows = (
            await session.execute(
                select(Outage, SlaPolicy.threshold_minutes)
                .join(
                    SlaPolicy,
                    and_(
                        SlaPolicy.contract_id == Outage.contract_id,
                        SlaPolicy.severity == Outage.severity,
                        SlaPolicy.is_current.is_(True),
                    ),
                )
                .where(
                    Outage.status.in_(OutageStatus.unresolved),
                    or_(
                        Outage.at_risk_notified_at.is_(None), Outage.violated_notified_at.is_(None)
                    ),
                )
                .order_by(Outage.detected_at)
                .limit(BATCH)
            )
        ).all()
        clocks = [ClockOf.of(outage, now) for outage, _ in rows]
        excluded = await excluded_seconds(session, clocks, now=now)
        emitted = 0
        for outage, threshold in rows:
            emitted += await _notify(session, outage, threshold, now, excluded[outage.id])
        await session.commit()
    return emitted


async def _notify(
    session: AsyncSession, outage: Outage, threshold: int, now: datetime, excluded: float
) -> int:
    """Maintenance windows and pauses hold the clock back: an outage inside a window is not
    announced at risk for time that does not count."""
    state = clock(outage.detected_at, now, threshold, excluded)
    emitted = 0
    if (
        state.at_risk
        and outage.at_risk_notified_at is None
        and await _claim(session, outage, Outage.at_risk_notified_at, now)
    ):
        _emit(
            session,
            outage,
            "sla.at_risk",
            "at_risk",
            f"SLA at risk: {state.elapsed_minutes} of {threshold} minutes used",
            {
                "elapsed_minutes": state.elapsed_minutes,
                "threshold_minutes": threshold,
                "time_remaining_minutes": state.time_remaining_minutes,
            },
        )
        emitted += 1
    if (
        state.status.value == "violated"
        and outage.violated_notified_at is None
        and await _claim(session, outage, Outage.violated_notified_at, now)
    ):
        _emit(
            session,
            outage,
            "sla.violated",
            "sla_violated",
            f"SLA threshold of {threshold} minutes passed",
            {
                "elapsed_minutes": state.elapsed_minutes,
                "threshold_minutes": threshold,
                "violated_at": isoformat(now),
            },
        )
        emitted += 1
    return emitted


async def _claim(session: AsyncSession, outage: Outage, column: Any, now: datetime) -> bool:
    claimed = await session.execute(
        update(Outage)
        .where(Outage.id == outage.id, column.is_(None), Outage.status.in_(OutageStatus.unresolved))
        .values({column.key: now})
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(claimed, "rowcount", 0))


def _emit(
    session: AsyncSession,
    outage: Outage,
    event_type: str,
    entry: str,
    message: str,
    data: dict[str, Any],
) -> None:
    journal.record(
        session,
        Change(
            organization_id=outage.organization_id,
            actor=SYSTEM,
            kind=event_type,
            entity_type="outage",
            entity_id=outage.id,
            publish={**summary(outage), **data},
            note=Note(outage.id, entry, message, data),
            audited=False,
        ),
    )
