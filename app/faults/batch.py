"""Batch fault intake: up to 1 000 reports in one transaction, with the outcome of each.

The same rules as `service.ingest`, applied to the whole batch at once: a report repeating an
unresolved fault (same resource and type, seen within the deduplication window) folds into it,
including a repeat of an earlier report of the same batch; a new fault is correlated to an
open outage on its sites, or opens one when its severity and the organization's rules say so
(one outage per site). A report that is not a valid fault is refused with its own errors and
does not stop the others.

Locks: every (resource, type) key of the batch in sorted order, then every quiet site (no open
outage) where a report may open one, in sorted order. Single intake takes one key and then one
site, so neither a single report nor another batch can hold something this batch waits for
while waiting for it.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import String, Table, bindparam, insert, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.actors import Actor
from app.core.clock import utcnow
from app.core.db import settings_of
from app.faults import correlation, queries, service
from app.faults.models import Fault, FaultStatus
from app.faults.schemas import FaultCreate
from app.journal import journal
from app.journal.entries import Change, Note, event_row
from app.outages.models import Outage, OutageStatus

ITEM_ERRORS = 10  # errors listed per refused report
VALIDATION_SLICE = 100  # reports validated between two yields to the event loop
SUMMARY_IDS = 100  # fault ids named in a batch's timeline entry (the count names them all)
_REPORTS = TypeAdapter(list[FaultCreate])


@dataclass
class Outcome:
    """One report's outcome, in the order of the batch."""

    index: int
    status: str  # created | folded | refused
    fault: Fault | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)


def _key(organization_id: str, resource_id: str, type_: str) -> str:
    # The same names single intake locks (`service.ingest`, `correlation.correlate`).
    return f"fault:{organization_id}|{resource_id}|{type_}"


async def validate(items: Sequence[Any]) -> list[tuple[int, FaultCreate | list[dict[str, Any]]]]:
    """Each item as a report, or its validation errors (`loc` relative to the item; at most
    ITEM_ERRORS of them, so a refusal's report stays small whatever the item holds)."""
    try:  # the whole list in one call when every item is valid (the common case, ~5 ms)
        return list(enumerate(_REPORTS.validate_python(items)))
    except ValidationError:
        pass
    checked: list[tuple[int, FaultCreate | list[dict[str, Any]]]] = []
    for index, item in enumerate(items):
        if index and index % VALIDATION_SLICE == 0:
            await asyncio.sleep(0)  # let other requests run between slices
        try:
            checked.append((index, FaultCreate.model_validate(item)))
        except ValidationError as error:
            checked.append((index, _item_errors(error)))
    return checked


def _item_errors(error: ValidationError) -> list[dict[str, Any]]:
    errors = error.errors(include_url=False, include_input=False)
    listed = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in errors]
    if len(listed) > ITEM_ERRORS:
        more = len(listed) - ITEM_ERRORS
        listed = [
            *listed[:ITEM_ERRORS],
            {"loc": [], "msg": f"and {more} more errors", "type": "too_many_errors"},
        ]
    return listed


async def _lock(session: AsyncSession, names: list[str]) -> None:
    await queries.lock_all(session, names)


async def _repeats(
    session: AsyncSession, organization_id: str, keys: set[tuple[str, str]], since: datetime
) -> dict[tuple[str, str], Fault]:
    """The newest unresolved fault seen since `since` for each (resource, type), locked."""
    if not keys:
        return {}
    # The resources are written into the statement as constants (quoted by the dialect):
    # PostgreSQL then hashes the list, where 500 bound parameters were compared one by one
    # against every fault of the organization (300-600 ms of a batch, 10 ms this way).
    resources = bindparam(
        "batch_resources",
        value=sorted({resource for resource, _ in keys}),
        expanding=True,
        literal_execute=True,
        type_=String,
    )
    rows = (
        (
            await session.execute(
                select(Fault)
                .where(
                    Fault.organization_id == organization_id,
                    Fault.resource_id.in_(resources),
                    tuple_(Fault.resource_id, Fault.type).in_(sorted(keys)),
                    Fault.status == FaultStatus.unresolved,
                    Fault.last_seen_at >= since,
                )
                .order_by(Fault.id)
                .with_for_update()
            )
        )
        .scalars()
        .all()
    )
    newest: dict[tuple[str, str], Fault] = {}
    for fault in rows:  # id order: the last one seen per key is the newest
        newest[(fault.resource_id, fault.type)] = fault
    return newest


async def _open_outages(session: AsyncSession, sites: set[str]) -> dict[str, Outage]:
    """The newest unresolved outage named by each site (id or name)."""
    if not sites:
        return {}
    names = sorted(sites)
    rows = (
        (
            await session.execute(
                select(Outage)
                .where(
                    Outage.status != OutageStatus.resolved,
                    Outage.site_id.in_(names) | Outage.site_name.in_(names),
                )
                .order_by(Outage.detected_at)
            )
        )
        .scalars()
        .all()
    )
    by_site: dict[str, Outage] = {}
    for outage in rows:  # oldest first: the newest wins
        for name in {outage.site_id, outage.site_name} & sites:
            if name is not None:
                by_site[name] = outage
    return by_site


async def ingest_batch(
    session: AsyncSession, organization_id: str, actor: Actor, items: Sequence[Any]
) -> list[Outcome]:
    checked = await validate(items)
    outcomes = {i: Outcome(i, "refused", errors=e) for i, e in checked if isinstance(e, list)}
    now = utcnow()
    settings = settings_of(session)
    # Every valid report as the fault it would be; those that repeat one are dropped below.
    candidates = [
        (i, service.new_fault(organization_id, r, now, settings.fault_ttl_days))
        for i, r in checked
        if isinstance(r, FaultCreate)
    ]
    keys = {(f.resource_id, f.type) for _, f in candidates}
    await _lock(session, [_key(organization_id, *key) for key in keys])
    window = timedelta(seconds=settings.fault_dedup_window_seconds)
    known = await _repeats(session, organization_id, keys, now - window)
    created: list[Fault] = []
    for index, fault in candidates:
        existing = known.get((fault.resource_id, fault.type))
        if existing is not None:
            # Loaded and locked in this session (or new in this batch): the flush writes it.
            service.seen_again(existing, now, settings.fault_ttl_days)
            outcomes[index] = Outcome(index, "folded", existing)
            continue
        known[(fault.resource_id, fault.type)] = fault
        created.append(fault)
        outcomes[index] = Outcome(index, "created", fault)
    await _correlate(session, organization_id, actor, created)
    await _insert(session, created)
    return [outcomes[i] for i in range(len(items))]


_FAULTS = cast(Table, Fault.__table__)
_COLUMNS = tuple(column.key for column in _FAULTS.columns)


async def _insert(session: AsyncSession, created: list[Fault]) -> None:
    """The new faults in one statement, after correlation gave them their outages. They are
    built as objects (correlation reads them) but never join the session: its unit of work
    would cost more than the rest of the batch."""
    if created:
        await session.execute(
            insert(_FAULTS), [{name: getattr(f, name) for name in _COLUMNS} for f in created]
        )


def _summarize(session: AsyncSession, outage: Outage, faults: list[Fault], actor: Actor) -> None:
    """One timeline entry for the faults of a batch that joined an open outage: a storm adds a
    line per batch to the outage's timeline, not one per device."""
    first = faults[0]
    more = f" and {len(faults) - 1} more" if len(faults) > 1 else ""
    journal.note(
        session,
        outage.organization_id,
        actor,
        Note(
            outage.id,
            "faults_correlated",
            f"Fault {first.type} ({first.severity}) on {first.resource_id}{more}",
            {
                "count": len(faults),
                "fault_ids": [f.id for f in faults[:SUMMARY_IDS]],
                "severities": dict(Counter(f.severity for f in faults)),
            },
        ),
    )


async def _correlate(
    session: AsyncSession, organization_id: str, actor: Actor, created: list[Fault]
) -> None:
    """As `correlation.correlate` for each new fault in order, with the outages read once."""
    if not created:
        return
    sites = {s for fault in created for s in correlation.sites_of(fault)}
    by_site = await _open_outages(session, sites)
    # Only a quiet site can get a second outage: its lock is taken (after every key lock, in
    # sorted order) and its outages read again. In a storm the sites soon have their outage,
    # and concurrent batches stop waiting on each other's sites.
    quiet = {
        correlation.site_of(fault)
        for fault in created
        if fault.severity in correlation.OPENING
        and not any(s in by_site for s in correlation.sites_of(fault))
    }
    if quiet:
        await _lock(session, [f"fault-site:{organization_id}|{site}" for site in quiet])
        by_site = await _open_outages(session, sites)
    rules = await correlation.rules_of(session, organization_id)
    windows = await correlation.active_windows(session, created[0].created_at)
    joined: dict[str, list[Fault]] = {}
    for fault in created:
        await correlation.correlate_with(
            session, fault, actor, by_site, rules=rules, windows=windows, joined=joined
        )
    outages = {o.id: o for o in by_site.values()}
    for outage_id, faults in joined.items():
        _summarize(session, outages[outage_id], faults, actor)
    journal.record_rows(
        session,
        events=[
            event_row(
                Change(
                    organization_id=organization_id,
                    actor=actor,
                    kind="fault.created",
                    entity_type="fault",
                    entity_id=fault.id,
                    publish=service.event_data(fault),
                    audited=False,
                )
            )
            for fault in created
        ],
    )
