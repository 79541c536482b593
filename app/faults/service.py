"""Faults: ingestion (deduplicated and correlated), reading, resolving, comments, share
tokens, rules, and the TTL purge."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, delete, desc, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import crossings
from app.core.actors import SYSTEM, Actor
from app.core.clock import utcnow
from app.core.correlation import get_correlation_id
from app.core.db import Database, settings_of
from app.core.errors import Conflict, Forbidden, Unauthorized
from app.core.ids import new_id
from app.core.loading import get_or_404
from app.core.locks import transaction_lock
from app.core.tenancy import scope_session_to, system_session
from app.faults import correlation
from app.faults.models import Fault, FaultComment, FaultRules, FaultShareToken, FaultStatus
from app.faults.schemas import FaultCreate, RulesUpdate, TokenCreate
from app.journal import journal
from app.journal.entries import Change
from app.outages.models import Outage, OutageStatus

TOKEN_PREFIX = "fst_"  # noqa: S105 (a prefix, not a secret)
RECENT = timedelta(hours=24)


def event_data(fault: Fault) -> dict[str, Any]:
    """The payload of a fault's events (single and batch intake, resolve)."""
    return {
        "fault_id": fault.id,
        "resource_id": fault.resource_id,
        "type": fault.type,
        "severity": fault.severity,
        "status": fault.status,
        "outage_id": fault.outage_id,
        "occurrences": fault.occurrences,
    }


def _event(session: AsyncSession, fault: Fault, event_type: str) -> None:
    journal.record(
        session,
        Change(
            organization_id=fault.organization_id,
            actor=SYSTEM,
            kind=event_type,
            entity_type="fault",
            entity_id=fault.id,
            publish=event_data(fault),
            audited=False,
        ),
    )


def expiry(moment: datetime, ttl_days: int) -> int:
    """The Unix second a fault last seen (or resolved) at `moment` expires."""
    return int((moment + timedelta(days=ttl_days)).timestamp())


def seen_again(fault: Fault, now: datetime, ttl_days: int) -> None:
    """A repeat folded into `fault`: counted, and its expiry pushed back."""
    fault.occurrences += 1
    fault.last_seen_at = now
    fault.ttl = expiry(now, ttl_days)


def new_fault(organization_id: str, data: FaultCreate, now: datetime, ttl_days: int) -> Fault:
    """A fault first seen now, not yet stored (its id is set, so a batch can name it)."""
    path = data.resource_ancestry_path
    return Fault(
        id=new_id("flt"),
        organization_id=organization_id,
        resource_id=data.resource_id,
        microservice_id=data.microservice_id,
        type=data.type,
        severity=data.severity.value,
        status=FaultStatus.unresolved,
        message=data.message,
        cause=data.cause,
        resource_ancestry_path=path,
        ancestry=f"|{path}|" if path else "|",
        created_at=now,
        last_seen_at=now,
        occurrences=1,
        ttl=expiry(now, ttl_days),
        correlation_id=get_correlation_id(),
        opened_outage=False,
    )


async def ingest(
    session: AsyncSession, organization_id: str, actor: Actor, data: FaultCreate
) -> tuple[Fault, bool]:
    """The fault, and True when it is new (False: a repeat folded into an unresolved one)."""
    now = utcnow()
    # One ingestion at a time per (organization, resource, type): a burst is one fault.
    await transaction_lock(session, f"fault:{organization_id}|{data.resource_id}|{data.type}")
    settings = settings_of(session)
    window = timedelta(seconds=settings.fault_dedup_window_seconds)
    repeat = (
        await session.execute(
            select(Fault)
            .where(
                Fault.resource_id == data.resource_id,
                Fault.type == data.type,
                Fault.status == FaultStatus.unresolved,
                Fault.last_seen_at >= now - window,
            )
            .order_by(Fault.id.desc())
            .limit(1)
            # Locked: a resolve committing meanwhile takes the fault out of this match.
            .with_for_update()
        )
    ).scalar_one_or_none()
    if repeat is not None:
        seen_again(repeat, now, settings.fault_ttl_days)
        return repeat, False
    fault = new_fault(organization_id, data, now, settings.fault_ttl_days)
    session.add(fault)
    await session.flush()
    await correlation.correlate(session, fault, actor)
    _event(session, fault, "fault.created")
    return fault, True


async def get(session: AsyncSession, fault_id: str, *, lock: bool = False) -> Fault:
    return await get_or_404(session, Fault, fault_id, "Fault not found.", for_update=lock)


async def resolve(session: AsyncSession, fault_id: str, actor: Actor) -> Fault:
    fault = await get(session, fault_id, lock=True)
    if fault.status == FaultStatus.resolved:
        raise Conflict("The fault is already resolved.", details={"fault_id": fault.id})
    now = utcnow()
    fault.status, fault.resolved_at = FaultStatus.resolved, now
    fault.ttl = expiry(now, settings_of(session).fault_ttl_days)
    journal.record(
        session,
        Change(
            organization_id=fault.organization_id,
            actor=actor,
            kind="fault.resolved",
            entity_type="fault",
            entity_id=fault.id,
            data={"resource_id": fault.resource_id, "type": fault.type},
        ),
    )
    _event(session, fault, "fault.resolved")
    await correlation.after_resolve(session, fault, actor)
    return fault


async def remove(session: AsyncSession, fault_id: str, actor: Actor) -> None:
    fault = await get(session, fault_id, lock=True)
    journal.record(
        session,
        Change(
            organization_id=fault.organization_id,
            actor=actor,
            kind="fault.deleted",
            entity_type="fault",
            entity_id=fault.id,
            data={"resource_id": fault.resource_id, "type": fault.type},
        ),
    )
    await session.delete(fault)


async def add_comment(
    session: AsyncSession, fault: Fault, user_id: str, comment: str
) -> FaultComment:
    row = FaultComment(
        organization_id=fault.organization_id,
        fault_id=fault.id,
        user_id=user_id,
        comment=comment,
        created_at=utcnow(),
    )
    session.add(row)
    await session.flush()
    return row


async def comments_of(session: AsyncSession, fault_ids: list[str]) -> dict[str, list[FaultComment]]:
    grouped: dict[str, list[FaultComment]] = {i: [] for i in fault_ids}
    if fault_ids:
        rows = await session.execute(
            select(FaultComment)
            .where(FaultComment.fault_id.in_(fault_ids))
            .order_by(FaultComment.created_at, FaultComment.id)
        )
        for row in rows.scalars():
            grouped[row.fault_id].append(row)
    return grouped


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def filtered(
    *,
    status: str | None = None,
    severity: str | None = None,
    type_: str | None = None,
    resource_id: str | None = None,
    site: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    suppressed: bool | None = None,
) -> Select[Any]:
    stmt = select(Fault)
    if suppressed is not None:
        window = Fault.maintenance_window_id
        stmt = stmt.where(window.is_not(None) if suppressed else window.is_(None))
    if status == "recent":
        stmt = stmt.where(Fault.created_at >= utcnow() - RECENT)
    elif status:
        stmt = stmt.where(Fault.status == status)
    if severity:
        stmt = stmt.where(Fault.severity == severity)
    if type_:
        stmt = stmt.where(Fault.type == type_)
    if resource_id:
        stmt = stmt.where(Fault.resource_id == resource_id)
    if site:
        stmt = stmt.where(Fault.ancestry.like(f"%|{_like_escape(site)}|%", escape="\\"))
    if start:
        stmt = stmt.where(Fault.created_at >= start)
    if end:
        stmt = stmt.where(Fault.created_at <= end)
    return stmt


async def top_resources(session: AsyncSession, days: int, limit: int) -> list[dict[str, Any]]:
    count = func.count().label("faults")
    rows = await session.execute(
        select(
            Fault.resource_id,
            count,
            func.sum(Fault.occurrences).label("occurrences"),
            func.max(Fault.last_seen_at).label("last_seen_at"),
        )
        .where(Fault.created_at >= utcnow() - timedelta(days=days))
        .group_by(Fault.resource_id)
        .order_by(desc(count), Fault.resource_id)
        .limit(limit)
    )
    return [dict(row._mapping) for row in rows]


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_token(
    session: AsyncSession, organization_id: str, actor: Actor, data: TokenCreate
) -> tuple[FaultShareToken, str]:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    row = FaultShareToken(
        organization_id=organization_id,
        token_hash=_hash(token),
        site=data.site,
        expires_at=now + timedelta(minutes=data.expires_in_minutes),
        created_by=actor.id,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    journal.record(
        session,
        Change(
            organization_id=organization_id,
            actor=actor,
            kind="fault_token.created",
            entity_type="fault_token",
            entity_id=row.id,
            data={"site": data.site, "expires_at": row.expires_at.isoformat()},
        ),
    )
    return row, token


async def revoke_token(session: AsyncSession, token_id: str, actor: Actor) -> FaultShareToken:
    row = await get_or_404(session, FaultShareToken, token_id, "Token not found.", for_update=True)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        journal.record(
            session,
            Change(
                organization_id=row.organization_id,
                actor=actor,
                kind="fault_token.revoked",
                entity_type="fault_token",
                entity_id=row.id,
                data={},
            ),
        )
    return row


async def token_scope(session: AsyncSession, token: str, site: str | None) -> FaultShareToken:
    """The share token behind a public read, or 401 (unknown, expired, revoked) / 403 (asked
    for another site than the token's)."""
    owner = await crossings.secret_owner(
        session, "share_token", _hash(token), held_by=FaultShareToken.token_hash
    )
    row = None
    if owner is not None:
        await scope_session_to(session, owner.organization_id)
        row = await session.get(FaultShareToken, owner.id)
    if row is None or row.revoked_at is not None or row.expires_at <= utcnow():
        raise Unauthorized("The share token is unknown, expired or revoked.")
    if row.site is not None and site is not None and site != row.site:
        raise Forbidden("This share token is limited to another site.")
    return row


async def rules(session: AsyncSession, organization_id: str) -> FaultRules:
    return await correlation.rules_of(session, organization_id)


async def update_rules(
    session: AsyncSession, organization_id: str, actor: Actor, data: RulesUpdate
) -> FaultRules:
    current = await correlation.rules_of(session, organization_id)
    session.add(current)
    if data.auto_open_outages is not None:
        current.auto_open_outages = data.auto_open_outages
    if data.auto_resolve_outages is not None:
        current.auto_resolve_outages = data.auto_resolve_outages
    await session.flush()
    journal.record(
        session,
        Change(
            organization_id=organization_id,
            actor=actor,
            kind="fault_rules.updated",
            entity_type="fault_rules",
            entity_id=current.id,
            data={
                "auto_open_outages": current.auto_open_outages,
                "auto_resolve_outages": current.auto_resolve_outages,
            },
        ),
    )
    return current


async def purge_expired(database: Database) -> int:
    """Faults past their `ttl` (the periodic sweep): resolved ones `FAULT_TTL_DAYS` after
    their resolution, unresolved ones that no report repeated for as long, except those of an
    outage still open (they are part of its story until it is resolved)."""
    now = int(utcnow().timestamp())
    open_outage = select(Outage.id).where(
        Outage.id == Fault.outage_id, Outage.status != OutageStatus.resolved
    )
    async with system_session(database, "purge expired faults") as session:
        result = await session.execute(delete(Fault).where(Fault.ttl < now, ~open_outage.exists()))
        await session.commit()
        return int(getattr(result, "rowcount", 0) or 0)
