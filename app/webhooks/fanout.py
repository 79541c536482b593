"""Fan-out: the events a transaction emitted become deliveries (and their jobs) in that same
transaction, so an event is delivered if and only if it committed."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, bindparam, event, insert, select
from sqlalchemy.orm import Session

from app.core.clock import utcnow
from app.core.db import Database
from app.core.ids import new_id
from app.jobs import service as jobs
from app.journal.journal import Emitted, journal_of, peek, write_now
from app.webhooks.models import Webhook, WebhookDelivery, WebhookStatus

DELIVER = "webhooks.deliver"
ALL_EVENTS = "*"


def subscribed(events: Iterable[str], event_type: str) -> bool:
    return ALL_EVENTS in events or event_type in events


# Built once (this runs on every commit that emitted events); the organizations are named
# explicitly, and row-level security holds them on PostgreSQL.
_ACTIVE_HOOKS = select(Webhook.id, Webhook.organization_id, Webhook.events).where(
    Webhook.organization_id.in_(bindparam("organizations", expanding=True)),
    Webhook.status == WebhookStatus.active,
)


def subscriptions_exist(organization_id: str) -> Select[Any]:
    """Whether the organization has an active subscription (a hot write asks along with its
    own statement, and skips the fan-out's query when it has none)."""
    active = select(Webhook.id).where(
        Webhook.organization_id == organization_id, Webhook.status == WebhookStatus.active
    )
    return select(active.exists())


def plan(session: Session, emitted: list[Emitted]) -> int:
    """Runs inside the commit (synchronous session API, in the async session's greenlet)."""
    organizations = sorted({org for _, org, _ in emitted} - journal_of(session).unsubscribed)
    if not organizations:
        return 0
    hooks = session.connection().execute(_ACTIVE_HOOKS, {"organizations": organizations}).all()
    if not hooks:
        return 0
    write_now(session)  # the events exist before the deliveries that reference them
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for event_id, org, event_type in emitted:
        for hook_id, hook_org, events in hooks:
            if hook_org == org and subscribed(events, event_type):
                rows.append(
                    {
                        "id": new_id("dlv"),
                        "organization_id": org,
                        "webhook_id": hook_id,
                        "event_id": event_id,
                        "event_type": event_type,
                        "status": "pending",
                        "attempts": 0,
                        "created_at": now,
                    }
                )
    if rows:
        session.execute(insert(WebhookDelivery), rows)
        for row in rows:
            jobs.enqueue(
                session,  # type: ignore[arg-type]  # enqueue only adds to the session
                DELIVER,
                {"delivery_id": row["id"]},
                organization_id=row["organization_id"],
            )
    return len(rows)


def install_fanout(database: Database) -> None:
    @event.listens_for(database.session_class, "before_commit")
    def _fan_out(session: Session) -> None:
        if session.in_nested_transaction():
            return  # a savepoint released: the events wait for the transaction's commit
        journal = peek(session)
        if journal is not None and journal.emitted:
            emitted, journal.emitted = journal.emitted, []
            plan(session, emitted)
