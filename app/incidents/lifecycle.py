"""An incident's lifecycle: which status may follow which, and what a move records. Pure.

open <-> investigating -> resolved -> closed. A resolved incident may be reopened (the fix did
not hold); any status but closed may be closed at once (a duplicate, a false alarm). Closed is
final: the record people signed off on does not change under them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.incidents.models import IncidentStatus

OPEN, INVESTIGATING = IncidentStatus.open, IncidentStatus.investigating
RESOLVED, CLOSED = IncidentStatus.resolved, IncidentStatus.closed
FOLLOWERS: dict[str, frozenset[str]] = {
    OPEN: frozenset({INVESTIGATING, RESOLVED, CLOSED}),
    INVESTIGATING: frozenset({OPEN, RESOLVED, CLOSED}),
    RESOLVED: frozenset({OPEN, INVESTIGATING, CLOSED}),
    CLOSED: frozenset(),
}


def is_final(status: str) -> bool:
    return not FOLLOWERS.get(status)


def may_follow(current: str, new: str) -> bool:
    return new in FOLLOWERS.get(current, frozenset())


def stamps(current: str, new: str, at: datetime, who: str | None) -> dict[str, Any]:
    """The columns a move from `current` to `new` sets, besides the status itself."""
    if new == RESOLVED:
        return {"resolved_at": at, "resolved_by": who}
    if new == CLOSED:
        # Closing keeps `resolved_at`: null says it was closed without being resolved.
        return {"closed_at": at, "closed_by": who}
    if current == RESOLVED:  # reopened: the resolution did not hold
        return {"resolved_at": None, "resolved_by": None}
    return {}


def event_type(changed_status: str | None) -> str:
    """The event (and audit row) an update is recorded as: its status change, if it has one
    that subscribers wait for, else `incident.updated`."""
    if changed_status == RESOLVED:
        return "incident.resolved"
    if changed_status == CLOSED:
        return "incident.closed"
    return "incident.updated"
