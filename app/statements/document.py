"""A counterparty's settlement statement for a period, as a JSON document built from the
database: the outages settled under its contracts, their measured clocks and exclusions,
approved overrides, penalties and rewards, corrections of earlier periods, the payments and
their ledger hashes, and the totals.

Every value is a string, number, list or object with a fixed order (ids, times), so the same
data always gives the same canonical bytes (`canonical`): a closed period's statement is
reproducible, and its SHA-256 can be anchored and checked.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.contracts.models import Counterparty, SlaContract
from app.core.clock import isoformat
from app.identity.models import Organization
from app.outages.models import Outage
from app.overrides.models import MttrOverride
from app.payments.models import Payment
from app.sla.exclusions import ClockOf, spans_of
from app.sla.measure import clipped
from app.sla.models import SlaResult
from app.statements.periods import Period
from app.stellar.runtime import stellar_of

SCHEMA_VERSION = 1


def money(value: Decimal) -> str:
    return f"{value:.7f}"


def signed(payment_type: str, amount: Decimal) -> Decimal:
    return (
        -amount if payment_type == "penalty" else amount if payment_type == "reward" else Decimal(0)
    )


def canonical(document: dict[str, Any]) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


async def _settled(
    session: AsyncSession, counterparty_id: str, period: Period, cutoff: datetime
) -> list[tuple[SlaResult, Outage]]:
    """The outages resolved in the period, each with its result as it stood at the cutoff,
    when that result is the counterparty's."""
    rows = await session.execute(
        select(SlaResult, Outage)
        .join(Outage, Outage.id == SlaResult.outage_id)
        .where(
            Outage.resolved_at >= period.starts_at,
            Outage.resolved_at < period.ends_at,
            SlaResult.computed_at < cutoff,
            Outage.imported_closed.is_(False),  # history, never settled: not on a statement
        )
        .order_by(SlaResult.computed_at, SlaResult.id)
    )
    standing: dict[str, tuple[SlaResult, Outage]] = {}
    for result, outage in rows:  # oldest first: the last one standing wins
        standing[outage.id] = (result, outage)
    kept = [pair for pair in standing.values() if pair[0].counterparty_id == counterparty_id]
    return sorted(kept, key=lambda pair: (pair[1].resolved_at, pair[1].id))


async def _corrections(
    session: AsyncSession, counterparty_id: str, period: Period, since: datetime, cutoff: datetime
) -> list[tuple[SlaResult, Outage]]:
    """Results computed since the previous period's cutoff, up to this one's, that replace
    one of an outage resolved before the period: each change is counted in one statement."""
    rows = await session.execute(
        select(SlaResult, Outage)
        .join(Outage, Outage.id == SlaResult.outage_id)
        .where(
            SlaResult.counterparty_id == counterparty_id,
            SlaResult.supersedes_id.is_not(None),
            SlaResult.computed_at >= since,
            SlaResult.computed_at < cutoff,
            Outage.resolved_at < period.starts_at,
            Outage.imported_closed.is_(False),
        )
        .order_by(SlaResult.computed_at, SlaResult.id)
    )
    return [(result, outage) for result, outage in rows]


async def _exclusions(
    session: AsyncSession, outages: list[Outage], cutoff: datetime
) -> dict[str, list[dict[str, str]]]:
    clocks = [ClockOf.of(o, o.resolved_at or cutoff) for o in outages]
    spans = await spans_of(session, clocks, now=cutoff, decided_before=cutoff)
    return {
        c.id: [
            {"kind": s.kind, "ref": s.ref, "start": isoformat(s.start), "end": isoformat(s.end)}
            for s in clipped(spans[c.id], c.detected_at, c.end)
        ]
        for c in clocks
    }


def _override(override: MttrOverride | None) -> dict[str, Any] | None:
    if override is None:
        return None
    return {
        "override_id": override.id,
        "source": override.source,
        "claimed_mttr_minutes": override.claimed_mttr_minutes,
        "requested_by": override.requested_by,
        "approved_by": override.decided_by,
        "approved_at": isoformat(override.decided_at) if override.decided_at else None,
    }


def _line(
    result: SlaResult,
    outage: Outage,
    exclusions: list[dict[str, str]],
    override: MttrOverride | None,
) -> dict[str, Any]:
    return {
        "outage_id": outage.id,
        "site_name": outage.site_name,
        "site_id": outage.site_id,
        "severity": result.severity,
        "detected_at": isoformat(outage.detected_at),
        "resolved_at": isoformat(outage.resolved_at) if outage.resolved_at else None,
        "measured_mttr_minutes": result.measured_mttr_minutes,
        "excluded_minutes": result.excluded_minutes,
        "exclusions": exclusions,
        "mttr_minutes": result.mttr_minutes,
        "mttr_source": result.mttr_source,
        "override": _override(override),
        "contract_id": result.contract_id,
        "policy_version": result.policy_version,
        "threshold_minutes": result.threshold_minutes,
        "status": result.status,
        "rating": result.rating,
        "payment_type": result.payment_type,
        "amount": money(signed(result.payment_type, result.amount)),
        "sla_result_id": result.id,
    }


async def _superseded(session: AsyncSession, ids: list[str]) -> dict[str, SlaResult]:
    if not ids:
        return {}
    rows = await session.execute(select(SlaResult).where(SlaResult.id.in_(ids)))
    return {r.id: r for r in rows.scalars()}


async def _overrides(session: AsyncSession, ids: list[str]) -> dict[str, MttrOverride]:
    if not ids:
        return {}
    rows = await session.execute(select(MttrOverride).where(MttrOverride.id.in_(ids)))
    return {o.id: o for o in rows.scalars()}


async def _payments(
    session: AsyncSession, counterparty_id: str, since: datetime, cutoff: datetime
) -> list[Payment]:
    """The money that moved between the counterparty and the pool in the window: payments
    confirmed on the ledger from the previous close to this one. Each confirmed payment is in
    exactly one statement, whichever period its outage belongs to."""
    rows = await session.execute(
        select(Payment)
        .where(
            Payment.counterparty_id == counterparty_id,
            Payment.confirmed_at >= since,
            Payment.confirmed_at < cutoff,
        )
        .order_by(Payment.confirmed_at, Payment.id)
    )
    return list(rows.scalars())


def _adjustment(result: SlaResult, outage: Outage, before: SlaResult | None) -> dict[str, Any]:
    was = signed(before.payment_type, before.amount) if before else Decimal(0)
    now = signed(result.payment_type, result.amount)
    return {
        "outage_id": outage.id,
        "sla_result_id": result.id,
        "supersedes_id": result.supersedes_id,
        "trigger": result.trigger,
        "computed_at": isoformat(result.computed_at),
        "previous_amount": money(was),
        "amount": money(now),
        "difference": money(now - was),
    }


def _payment(payment: Payment) -> dict[str, Any]:
    return {
        "payment_id": payment.id,
        "outage_id": payment.outage_id,
        "sla_result_id": payment.sla_result_id,
        "type": payment.type,
        "amount": money(signed(payment.type, payment.amount)),
        "from_address": payment.from_address,
        "to_address": payment.to_address,
        "transaction_hash": payment.transaction_hash,
        "ledger": payment.ledger,
        "confirmed_at": isoformat(payment.confirmed_at) if payment.confirmed_at else None,
    }


async def build(
    session: AsyncSession,
    counterparty: Counterparty,
    period: Period,
    *,
    status: str,
    at: datetime,
    cutoff: datetime,
    since: datetime,
) -> dict[str, Any]:
    """The statement as things stood at `cutoff` (the period's close, or now for a draft);
    corrections are those made between the previous period's cutoff (`since`) and this one's,
    so every change of an outcome is counted in exactly one statement."""
    settled = await _settled(session, counterparty.id, period, cutoff)
    corrections = await _corrections(session, counterparty.id, period, since, cutoff)
    exclusions = await _exclusions(session, [o for _, o in settled], cutoff)
    overrides = await _overrides(session, [r.override_id for r, _ in settled if r.override_id])
    previous = await _superseded(
        session, [r.supersedes_id for r, _ in corrections if r.supersedes_id]
    )
    lines = [_line(r, o, exclusions[o.id], overrides.get(r.override_id or "")) for r, o in settled]
    adjustments = [_adjustment(r, o, previous.get(r.supersedes_id or "")) for r, o in corrections]
    payments = await _payments(session, counterparty.id, since, cutoff)
    contracts = (
        await session.execute(
            select(SlaContract)
            .where(SlaContract.counterparty_id == counterparty.id)
            .order_by(SlaContract.id)
        )
    ).scalars()
    organization = await session.get(Organization, counterparty.organization_id)
    network = stellar_of(session).network
    penalties = sum(
        (-Decimal(x["amount"]) for x in lines if x["payment_type"] == "penalty"), Decimal(0)
    )
    rewards = sum(
        (Decimal(x["amount"]) for x in lines if x["payment_type"] == "reward"), Decimal(0)
    )
    adjusted = sum((Decimal(a["difference"]) for a in adjustments), Decimal(0))
    net = rewards - penalties + adjusted
    paid = sum((signed(p.type, p.amount) for p in payments), Decimal(0))
    return {
        "schema_version": SCHEMA_VERSION,
        "status": status,
        # A closed statement's is its close, whenever it was first read; a draft's, now.
        "generated_at": isoformat(cutoff if status == "closed" else at),
        "period": {
            "label": period.label,
            "starts_at": isoformat(period.starts_at),
            "ends_at": isoformat(period.ends_at),
            "as_of": isoformat(cutoff),
        },
        "organization": {
            "id": counterparty.organization_id,
            "name": organization.name if organization else None,
        },
        "counterparty": {
            "id": counterparty.id,
            "name": counterparty.name,
            "kind": counterparty.kind,
            "wallet_address": counterparty.wallet_address,
        },
        "contracts": [
            {
                "contract_id": c.id,
                "name": c.name,
                "sites": c.sites,
                "effective_from": isoformat(c.effective_from),
                "effective_to": isoformat(c.effective_to) if c.effective_to else None,
            }
            for c in contracts
        ],
        "currency": {"asset": "USDC", "issuer": network.usdc.issuer, "network": network.name.value},
        "outages": lines,
        "adjustments": adjustments,
        "payments": [_payment(p) for p in payments],
        "totals": {
            "outages": len(lines),
            "penalties": money(penalties),
            "rewards": money(rewards),
            "adjustments": money(adjusted),
            "net": money(net),
            "paid": money(paid),
        },
    }
