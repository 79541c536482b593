"""The rows a change leaves behind, as column values: pure functions of the change and the
moment (no session), so a bulk write builds thousands of them without the ORM."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.core.actors import Actor
from app.core.clock import utcnow
from app.core.correlation import get_correlation_id
from app.core.ids import new_id
from app.journal.catalog import EVENT_TYPES

TIMELINE_SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class Note:
    """A line on an outage's timeline."""

    outage_id: str
    entry: str  # what happened, in a word: "created", "resolved", "sla_evaluated"...
    message: str
    data: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Change:
    """One change, as each party records it.

    `kind` names it ("outage.resolved"): the audit row's and the domain event's type, and what
    reactions are declared on. The audit row's data is `data` (not audited when `audited` is
    false); a domain event is published when `publish` is given (its payload); `note` adds a
    line to an outage's timeline. A change that records nothing still sets off its reactions
    (an internal kind, such as "sla.confirmed")."""

    organization_id: str
    actor: Actor
    kind: str
    entity_type: str | None = None
    entity_id: str | None = None
    data: dict[str, Any] | None = None
    publish: dict[str, Any] | None = None
    note: Note | None = None
    audited: bool = True


def canonical(value: Any) -> Any:
    """JSON the database gives back unchanged: no floats (JSONB may reprint them), no
    non-string keys. What is hashed is exactly what is stored."""
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [canonical(v) for v in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def audit_row(change: Change, at: datetime | None = None) -> dict[str, Any]:
    """The columns of the change's unchained audit row."""
    return {
        "id": new_id("aud"),
        "organization_id": change.organization_id,
        "occurred_at": at or utcnow(),
        "actor_type": change.actor.type,
        "actor_id": change.actor.id,
        "event_type": change.kind,
        "entity_type": change.entity_type,
        "entity_id": change.entity_id,
        "correlation_id": get_correlation_id(),
        "data": canonical(change.data or {}),
    }


def event_row(change: Change, at: datetime | None = None) -> dict[str, Any]:
    """The columns of the change's domain event."""
    if change.kind not in EVENT_TYPES:
        raise ValueError(f"unknown event type {change.kind!r}")
    return {
        "id": new_id("evt"),
        "organization_id": change.organization_id,
        "event_type": change.kind,
        "entity_type": change.entity_type or "",
        "entity_id": change.entity_id or "",
        "occurred_at": at or utcnow(),
        "schema_version": 1,
        "correlation_id": get_correlation_id(),
        "data": change.publish or {},
    }


def timeline_row(change: Change, note: Note, at: datetime | None = None) -> dict[str, Any]:
    """The columns of the change's timeline entry."""
    return {
        "id": new_id("tml"),
        "organization_id": change.organization_id,
        "outage_id": note.outage_id,
        "event": note.entry,
        "message": note.message[:500],
        "actor_type": change.actor.type,
        "actor_id": change.actor.id,
        "occurred_at": at or utcnow(),
        "data": note.data or {},
        "schema_version": TIMELINE_SCHEMA_VERSION,
    }
