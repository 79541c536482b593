"""Why an outage's settlement waits: a decision a second person has not taken yet.

While an override request or a clock pause awaiting approval is open, the outcome is
recorded on the measured clock but no payment is planned: the money waits for the decision,
whichever way it goes. An outage imported already over is never paid.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.outages.models import Outage
from app.overrides.models import MttrOverride, OverrideStatus
from app.pauses.models import ClockPause, PauseStatus

AWAITING_OVERRIDE = "awaiting_override_approval"
AWAITING_PAUSE = "awaiting_pause_approval"
# Imported already over: its outcome is on times typed into a file, which this service did not
# measure and the other party cannot check; it is for reports, and no decision releases it.
IMPORTED_HISTORY = "imported_history"


async def hold_reason(session: AsyncSession, outage_id: str) -> str | None:
    outage = await session.get(Outage, outage_id)  # in the session already, as a rule
    if outage is not None and outage.imported_closed:
        return IMPORTED_HISTORY
    pending = await session.execute(
        select(MttrOverride.id).where(
            MttrOverride.outage_id == outage_id, MttrOverride.status == OverrideStatus.pending
        )
    )
    if pending.first() is not None:
        return AWAITING_OVERRIDE
    paused = await session.execute(
        select(ClockPause.id).where(
            ClockPause.outage_id == outage_id, ClockPause.status == PauseStatus.pending
        )
    )
    if paused.first() is not None:
        return AWAITING_PAUSE
    return None
