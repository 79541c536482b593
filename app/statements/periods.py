"""Statement periods: `2026-11` (a month) or `2026-Q4` (a quarter), in UTC. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

# The year is 1970..9998 in the pattern itself, so the document states what the route takes.
_YEAR = r"(19[7-9]\d|[2-8]\d{3}|9[0-8]\d{2}|99[0-8]\d|999[0-8])"
PERIOD_PATTERN = rf"^{_YEAR}-(0[1-9]|1[0-2]|Q[1-4])$"
_PERIOD = re.compile(PERIOD_PATTERN)


@dataclass(frozen=True, slots=True)
class Period:
    label: str
    starts_at: datetime
    ends_at: datetime  # exclusive


def _month_start(year: int, month: int) -> datetime:
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return datetime(year, month, 1, tzinfo=UTC)


FIRST_YEAR, LAST_YEAR = 1970, 9998


def parse(label: str) -> Period:
    if not _PERIOD.match(label):
        raise ValueError("a period is a month (2026-11) or a quarter (2026-Q4)")
    year, part = int(label[:4]), label[5:]
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"a period's year is {FIRST_YEAR}..{LAST_YEAR}")
    if part.startswith("Q"):
        first = (int(part[1]) - 1) * 3 + 1
        return Period(label, _month_start(year, first), _month_start(year, first + 3))
    month = int(part)
    return Period(label, _month_start(year, month), _month_start(year, month + 1))


def previous(period: Period) -> Period:
    """The period just before, of the same kind."""
    year, part = int(period.label[:4]), period.label[5:]
    if part.startswith("Q"):
        quarter = int(part[1])
        label = f"{year - 1}-Q4" if quarter == 1 else f"{year}-Q{quarter - 1}"
    else:
        month = int(part)
        label = f"{year - 1}-12" if month == 1 else f"{year}-{month - 1:02d}"
    return parse(label)


def quarter_of(moment: datetime) -> str:
    return f"{moment.year:04d}-Q{(moment.month - 1) // 3 + 1}"


def month_of(moment: datetime) -> str:
    return f"{moment.year:04d}-{moment.month:02d}"
