"""Measuring an outage's clock, as pure functions: elapsed time minus excluded spans.

The measured MTTR is `end - detected_at` less the union of the excluded spans inside it
(maintenance windows of the site, approved clock pauses), in whole minutes rounded up, so a
threshold is never met by rounding. Overlapping spans are counted once.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from app.contracts.engine import MAX_MTTR_MINUTES


@dataclass(frozen=True, slots=True)
class Span:
    start: datetime
    end: datetime
    kind: str  # maintenance | pause
    ref: str  # the window's or the pause's id


@dataclass(frozen=True, slots=True)
class Measurement:
    """`mttr_minutes` saturates at the engine's MAX_MTTR_MINUTES (a year): an outage left open
    longer than that is rated on a year, not refused."""

    elapsed_minutes: int  # end - detected_at, rounded up
    mttr_minutes: int  # elapsed less the excluded time, rounded up
    # What the exclusions took off: elapsed - (elapsed less excluded), both rounded up, so
    # the figures add up below the cap.
    excluded_minutes: int
    excluded_seconds: int
    spans: tuple[Span, ...]  # the spans that overlapped, clipped to the outage


def clipped(spans: Iterable[Span], start: datetime, end: datetime) -> list[Span]:
    """The spans' parts inside [start, end], in order of start (empty parts dropped)."""
    inside = [
        Span(max(s.start, start), min(s.end, end), s.kind, s.ref)
        for s in spans
        if s.end > start and s.start < end and s.end > s.start
    ]
    return sorted(inside, key=lambda s: (s.start, s.end, s.ref))


def union_seconds(spans: Iterable[Span]) -> float:
    """Seconds covered by at least one span."""
    total, reach = 0.0, None
    for span in sorted(spans, key=lambda s: s.start):
        if reach is None or span.start > reach:
            total += (span.end - span.start).total_seconds()
            reach = span.end
        elif span.end > reach:
            total += (span.end - reach).total_seconds()
            reach = span.end
    return total


def measure(detected_at: datetime, end: datetime, spans: Iterable[Span]) -> Measurement:
    if end < detected_at:
        raise ValueError("the clock cannot stop before the outage was detected")
    inside = clipped(spans, detected_at, end)
    elapsed = (end - detected_at).total_seconds()
    excluded = union_seconds(inside)
    counted = math.ceil(max(0.0, elapsed - excluded) / 60)
    return Measurement(
        elapsed_minutes=math.ceil(elapsed / 60),
        mttr_minutes=min(counted, MAX_MTTR_MINUTES),
        excluded_minutes=math.ceil(elapsed / 60) - counted,
        excluded_seconds=int(excluded),
        spans=tuple(inside),
    )


def minutes_between(start: datetime, end: datetime) -> int:
    return math.ceil(max(0.0, (end - start).total_seconds()) / 60)
