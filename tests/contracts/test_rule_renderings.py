"""The contract-in-force rule has two renderings: Python (`rules.in_force`, used at settlement
and for imports) and SQL (`in_force_statement`, read inside an outage's insert). They must
choose the same contract: checked on random contract sets without ties, on PostgreSQL."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete

from app.contracts import rules
from app.contracts.models import Counterparty, SlaContract
from app.contracts.service import has_site_jsonb, in_force_statement
from app.core.ids import new_id
from app.core.tenancy import tenant_session
from tests.helpers import Api

# `D` beside `Quote "D"`: a site's name inside another's must not match it.
SITES = ["A", "B", "C", "D", 'Quote "D"', "Ünï", "50%_off"]
START = datetime(2026, 1, 1, tzinfo=UTC)


def _contracts(rng: random.Random, organization: str, counterparty: str) -> list[SlaContract]:
    chosen: list[SlaContract] = [
        SlaContract(
            id=new_id("ctr"),
            organization_id=organization,
            counterparty_id=counterparty,
            name="default",
            sites=None,
            effective_from=datetime(1970, 1, 1, tzinfo=UTC),
            is_default=True,
        )
    ]
    for n in range(rng.randint(0, 6)):
        begins = START + timedelta(days=rng.randint(0, 60))
        candidate = SlaContract(
            id=new_id("ctr"),
            organization_id=organization,
            counterparty_id=counterparty,
            name=f"c{n}",
            sites=None if rng.random() < 0.3 else sorted(rng.sample(SITES, rng.randint(1, 3))),
            effective_from=begins,
            effective_to=begins + timedelta(days=rng.randint(1, 40))
            if rng.random() < 0.6
            else None,
            is_default=False,
        )
        if not rules.clashes(candidate, chosen):
            chosen.append(candidate)
    return chosen


async def test_sql_and_python_choose_the_same_contract(app: Any, api: Api) -> None:
    owner = await api.owner()
    organization = owner.organization_id
    rng = random.Random(23)
    async with tenant_session(app.state.database, organization) as session:
        counterparty = Counterparty(
            id=new_id("cpy"), organization_id=organization, name="rule check", kind="contractor"
        )
        session.add(counterparty)
        await session.flush()
        for _ in range(40):
            await session.execute(
                delete(SlaContract).where(SlaContract.counterparty_id == counterparty.id)
            )
            contracts = _contracts(rng, organization, counterparty.id)
            # The organization's own default contract is a real row too: compare with it in.
            session.add_all([c for c in contracts if not c.is_default])
            await session.flush()
            known = [c for c in contracts if not c.is_default] + [await _default_of(session)]
            for _ in range(10):
                sites = rng.sample(SITES, rng.randint(1, 2))
                at = START + timedelta(days=rng.randint(-5, 110), hours=rng.randint(0, 23))
                expected = rules.in_force(known, sites, at)
                found = (
                    await session.execute(in_force_statement(organization, sites, at))
                ).scalar_one()
                assert expected is not None and found == expected.id, (sites, at, known)
                # The create path's rendering: sites as bound parameters, jsonb containment.
                bound = in_force_statement(organization, sites, at, has_site=has_site_jsonb)
                assert (await session.execute(bound)).scalar_one() == expected.id
        await session.rollback()


async def _default_of(session: Any) -> SlaContract:
    from app.contracts.service import default_contract

    return await default_contract(session)
