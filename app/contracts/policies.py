"""SLA terms per contract and severity: defaults at creation, immutable versions on change.

Every organization's default contract starts with DEFAULT_TERMS; other contracts start with
the terms they are created with (or the default contract's). A change writes a new version
only when the terms differ: saving the same terms again changes nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.contracts.engine import DEFAULT_TERMS, PolicyTerms, Severity
from app.contracts.models import SlaPolicy
from app.core.actors import Actor
from app.core.clock import utcnow
from app.core.errors import NotFound
from app.journal import journal
from app.journal.entries import Change


def seed_terms(
    session: AsyncSession,
    organization_id: str,
    contract_id: str,
    terms: dict[Severity, PolicyTerms] | None = None,
    *,
    created_by: str | None = "system",
) -> list[SlaPolicy]:
    now = utcnow()
    rows = [
        SlaPolicy(
            organization_id=organization_id,
            contract_id=contract_id,
            severity=severity.value,
            version=1,
            threshold_minutes=given.threshold_minutes,
            penalty_per_minute=given.penalty_per_minute,
            reward_base=given.reward_base,
            is_current=True,
            created_at=now,
            created_by=created_by,
        )
        for severity, given in (terms or DEFAULT_TERMS).items()
    ]
    session.add_all(rows)
    return rows


def threshold_statement(contract_id: Any, severity: str) -> Select[Any]:
    """The current threshold of one severity under a contract (an id or a SQL expression)."""
    return select(SlaPolicy.threshold_minutes).where(
        SlaPolicy.contract_id == contract_id,
        SlaPolicy.severity == severity,
        SlaPolicy.is_current.is_(True),
    )


async def current_policies(session: AsyncSession, contract_id: str) -> list[SlaPolicy]:
    rows = await session.execute(
        select(SlaPolicy).where(
            SlaPolicy.contract_id == contract_id, SlaPolicy.is_current.is_(True)
        )
    )
    return list(rows.scalars())


async def current_policy(session: AsyncSession, contract_id: str, severity: Severity) -> SlaPolicy:
    policy = (
        await session.execute(
            select(SlaPolicy).where(
                SlaPolicy.contract_id == contract_id,
                SlaPolicy.severity == severity.value,
                SlaPolicy.is_current.is_(True),
            )
        )
    ).scalar_one_or_none()
    if policy is None:
        raise NotFound(f"No SLA terms for severity {severity.value}.")
    return policy


async def policy_by_id(session: AsyncSession, policy_id: str) -> SlaPolicy:
    return (await session.execute(select(SlaPolicy).where(SlaPolicy.id == policy_id))).scalar_one()


async def versions(session: AsyncSession, contract_id: str) -> list[SlaPolicy]:
    rows = await session.execute(
        select(SlaPolicy)
        .where(SlaPolicy.contract_id == contract_id)
        .order_by(SlaPolicy.version, SlaPolicy.severity)
    )
    return list(rows.scalars())


def terms_of(policy: SlaPolicy) -> PolicyTerms:
    return PolicyTerms(policy.threshold_minutes, policy.penalty_per_minute, policy.reward_base)


async def put_policy(
    session: AsyncSession,
    organization_id: str,
    contract_id: str,
    severity: Severity,
    terms: PolicyTerms,
    actor: Actor,
) -> SlaPolicy:
    """A new immutable version when the terms differ; the previous one stays for the results
    that used it. The same terms again return the current version unchanged. Two concurrent
    changes of one severity collide on the `is_current` unique index (409)."""
    previous = await current_policy(session, contract_id, severity)
    if terms_of(previous) == terms:
        return previous
    version = (
        await session.execute(
            select(func.max(SlaPolicy.version)).where(SlaPolicy.contract_id == contract_id)
        )
    ).scalar_one()
    await session.execute(
        update(SlaPolicy).where(SlaPolicy.id == previous.id).values(is_current=False)
    )
    policy = SlaPolicy(
        organization_id=organization_id,
        contract_id=contract_id,
        severity=severity.value,
        version=int(version) + 1,
        threshold_minutes=terms.threshold_minutes,
        penalty_per_minute=terms.penalty_per_minute,
        reward_base=terms.reward_base,
        is_current=True,
        created_at=utcnow(),
        created_by=actor.id,
    )
    session.add(policy)
    await session.flush()
    journal.record(
        session,
        Change(
            organization_id=organization_id,
            actor=actor,
            kind="sla.policy_changed",
            entity_type="sla_policy",
            entity_id=policy.id,
            data={
                "contract_id": contract_id,
                "severity": severity.value,
                "version": policy.version,
                "previous_version": previous.version,
                "threshold_minutes": terms.threshold_minutes,
                "penalty_per_minute": str(terms.penalty_per_minute),
                "reward_base": str(terms.reward_base),
            },
        ),
    )
    return policy
