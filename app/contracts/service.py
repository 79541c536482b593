"""Counterparties and SLA contracts: the default ones of a new organization, creating and
changing them (never two that could both claim an outage), and the contract an outage is
settled under."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.contracts import policies, rules
from app.contracts.engine import PolicyTerms, Severity
from app.contracts.models import Counterparty, CounterpartyKind, SlaContract
from app.contracts.schemas import (
    ContractCreate,
    ContractUpdate,
    CounterpartyCreate,
    CounterpartyUpdate,
)
from app.core.actors import Actor
from app.core.clock import isoformat
from app.core.db import json_array_has
from app.core.errors import Conflict, ValidationFailed
from app.core.ids import new_id
from app.core.loading import get_or_404
from app.core.locks import transaction_lock
from app.journal import journal
from app.journal.entries import Change

# The default contract is in force for all time: no outage predates it.
BEGINNING = datetime(1970, 1, 1, tzinfo=UTC)


def seed_default(session: AsyncSession, organization_id: str) -> SlaContract:
    """A new organization's default counterparty (its own wallets) and default contract
    (every site, always, the default terms)."""
    counterparty = Counterparty(
        id=new_id("cpy"),
        organization_id=organization_id,
        name="Default counterparty",
        kind=CounterpartyKind.internal,
        is_default=True,
        created_by="system",
    )
    contract = SlaContract(
        id=new_id("ctr"),
        organization_id=organization_id,
        counterparty_id=counterparty.id,
        name="Default contract",
        sites=None,
        effective_from=BEGINNING,
        is_default=True,
        created_by="system",
    )
    session.add_all([counterparty, contract])
    policies.seed_terms(session, organization_id, contract.id)
    return contract


def in_force_statement(
    organization_id: Any,
    sites: Sequence[Any],
    at: Any,
    has_site: Callable[[Any, Any], Any] = json_array_has,
) -> Select[Any]:
    """`rules.in_force` as one SQL statement (the PostgreSQL create path reads it inside the
    outage's insert): the id of the contract in force for these sites at `at`. A site list is
    a short JSON array whose text holds each site as one quoted element, on both databases;
    with bound parameters for sites, PostgreSQL's `has_site_jsonb` (jsonb containment).
    tests/contracts checks that the renderings agree."""
    named = [has_site(SlaContract.sites, site) for site in sites]
    return (
        select(SlaContract.id)
        .where(
            SlaContract.organization_id == organization_id,
            SlaContract.effective_from <= at,
            or_(SlaContract.effective_to.is_(None), SlaContract.effective_to > at),
            or_(SlaContract.sites.is_(None), *named),
        )
        .order_by(
            SlaContract.sites.is_(None),
            SlaContract.is_default,
            SlaContract.effective_from.desc(),
            SlaContract.id,
        )
        .limit(1)
    )


def has_site_jsonb(column: Any, site: Any) -> Any:
    """PostgreSQL: the JSONB array has `site` (a value or a bound parameter) as an element."""
    return column.op("@>")(func.jsonb_build_array(site))


async def contracts(session: AsyncSession) -> list[SlaContract]:
    return list((await session.execute(select(SlaContract).order_by(SlaContract.id))).scalars())


def choose(known: Sequence[SlaContract], outage: Any) -> SlaContract:
    """The contract in force for an outage (an Outage, or the values of a new one)."""

    def read(name: str) -> Any:
        return outage.get(name) if isinstance(outage, dict) else getattr(outage, name)

    found = rules.in_force(known, read("sla_sites"), read("detected_at"))
    assert found is not None, "every organization has a default contract"
    return found


async def default_contract(session: AsyncSession) -> SlaContract:
    return (
        await session.execute(select(SlaContract).where(SlaContract.is_default.is_(True)))
    ).scalar_one()


async def get_contract(session: AsyncSession, contract_id: str) -> SlaContract:
    return await get_or_404(session, SlaContract, contract_id, "Contract not found.")


async def get_counterparty(session: AsyncSession, counterparty_id: str) -> Counterparty:
    return await get_or_404(session, Counterparty, counterparty_id, "Counterparty not found.")


async def _record(
    session: AsyncSession, organization_id: str, actor: Actor, event: str, row: Any, data: Any
) -> None:
    journal.record(
        session,
        Change(
            organization_id=organization_id,
            actor=actor,
            kind=event,
            entity_type="counterparty" if isinstance(row, Counterparty) else "sla_contract",
            entity_id=row.id,
            data=data,
        ),
        subject=row,
    )


async def create_counterparty(
    session: AsyncSession, organization_id: str, actor: Actor, data: CounterpartyCreate
) -> Counterparty:
    counterparty = Counterparty(
        organization_id=organization_id,
        name=data.name,
        kind=data.kind,
        wallet_address=data.wallet_address,
        created_by=actor.id,
    )
    session.add(counterparty)
    await session.flush()  # the name's unique index answers a duplicate with 409 here
    await _record(
        session,
        organization_id,
        actor,
        "counterparty.created",
        counterparty,
        {"name": data.name, "kind": data.kind, "wallet_address": data.wallet_address},
    )
    return counterparty


async def update_counterparty(
    session: AsyncSession, counterparty_id: str, actor: Actor, data: CounterpartyUpdate
) -> Counterparty:
    counterparty = await get_counterparty(session, counterparty_id)
    changes = data.model_dump(exclude_unset=True)
    if "name" in changes and changes["name"] is None:
        raise ValidationFailed.of_field("name", "name cannot be null; leave it out instead.")
    before = {k: getattr(counterparty, k) for k in changes}
    for key, value in changes.items():
        setattr(counterparty, key, value)
    await session.flush()
    if before != changes:
        await _record(
            session,
            counterparty.organization_id,
            actor,
            "counterparty.updated",
            counterparty,
            {"before": before, "after": changes},
        )
    return counterparty


async def _refuse_clashes(session: AsyncSession, contract: SlaContract) -> None:
    clash = rules.clashes(contract, await contracts(session))
    if clash:
        raise Conflict(
            "Another contract covers the same site (or every site) over overlapping dates: "
            "an outage could be settled under either.",
            details={"contract_ids": [c.id for c in clash]},
        )


async def _terms(session: AsyncSession, data: ContractCreate) -> dict[Severity, PolicyTerms]:
    default = {
        Severity(p.severity): policies.terms_of(p)
        for p in await policies.current_policies(session, (await default_contract(session)).id)
    }
    given = data.terms.model_dump(exclude_none=True)
    return {
        severity: PolicyTerms(**given[severity.value]) if severity.value in given else terms
        for severity, terms in default.items()
    }


async def create_contract(
    session: AsyncSession, organization_id: str, actor: Actor, data: ContractCreate
) -> SlaContract:
    # One writer of an organization's contracts at a time: the clash check stays true.
    await transaction_lock(session, f"contracts:{organization_id}")
    counterparty = await get_counterparty(session, data.counterparty_id)
    contract = SlaContract(
        id=new_id("ctr"),
        organization_id=organization_id,
        counterparty_id=counterparty.id,
        name=data.name,
        sites=sorted(set(data.sites)) if data.sites else None,
        effective_from=data.effective_from,
        effective_to=data.effective_to,
        created_by=actor.id,
    )
    await _refuse_clashes(session, contract)
    session.add(contract)
    policies.seed_terms(
        session, organization_id, contract.id, await _terms(session, data), created_by=actor.id
    )
    await session.flush()
    await _record(
        session, organization_id, actor, "sla.contract_created", contract, _data(contract)
    )
    await journal.follow_up(session)  # open outages move to it: app/reactions.py
    return contract


def _data(contract: SlaContract) -> dict[str, Any]:
    return {
        "counterparty_id": contract.counterparty_id,
        "name": contract.name,
        "sites": contract.sites,
        "effective_from": isoformat(contract.effective_from),
        "effective_to": isoformat(contract.effective_to) if contract.effective_to else None,
    }


async def update_contract(
    session: AsyncSession,
    organization_id: str,
    contract_id: str,
    actor: Actor,
    data: ContractUpdate,
) -> SlaContract:
    await transaction_lock(session, f"contracts:{organization_id}")
    contract = await get_contract(session, contract_id)
    if data.name is not None:
        contract.name = data.name
    if data.effective_to is not None:
        if contract.is_default:
            raise Conflict("The default contract is always in force.")
        if data.effective_to <= contract.effective_from:
            raise ValidationFailed.of_field(
                "effective_to", "effective_to must be after effective_from."
            )
        contract.effective_to = data.effective_to
        await _refuse_clashes(session, contract)
    await session.flush()
    await _record(
        session, contract.organization_id, actor, "sla.contract_changed", contract, _data(contract)
    )
    await journal.follow_up(session)  # open outages move to it: app/reactions.py
    return contract
