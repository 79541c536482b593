"""Retry delays: exponential with full jitter, capped. Pure, so it is tested directly."""

from __future__ import annotations

import random


def retry_delay_seconds(
    attempt: int, *, base: float = 5.0, cap: float = 3600.0, rng: random.Random | None = None
) -> float:
    """Delay before retry number `attempt` (1 = the first retry): uniform in
    [ceiling/2, ceiling], ceiling = min(cap, base * 2**(attempt-1)). Half the ceiling is kept so a
    retry never comes back at once; the random half spreads a burst of failures."""
    ceiling: float = min(cap, base * float(2 ** max(0, attempt - 1)))
    jitter: float = (rng or random).uniform(0, ceiling / 2)
    return ceiling / 2 + jitter
