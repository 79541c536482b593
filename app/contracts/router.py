from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, status
from sqlalchemy import select

from app.contracts import policies, service
from app.contracts.engine import PolicyTerms, Severity
from app.contracts.models import Counterparty, SlaContract
from app.contracts.schemas import (
    ContractCreate,
    ContractOut,
    ContractUpdate,
    CounterpartyCreate,
    CounterpartyOut,
    CounterpartyUpdate,
    PolicyOut,
    PolicyUpdate,
    TermsVersionOut,
)
from app.core.db import SessionDep
from app.core.pagination import CursorPageParamsDep, Page, paginate
from app.core.routing import APIRouter
from app.identity.dependencies import AdminPrincipal, CurrentPrincipal

router = APIRouter(tags=["Contracts"])

CounterpartyId = Annotated[str, Path(max_length=64, description="A counterparty (`cpy_...`).")]
ContractId = Annotated[str, Path(max_length=64, description="An SLA contract (`ctr_...`).")]


async def _present(session: SessionDep, contract: SlaContract) -> ContractOut:
    current = await policies.current_policies(session, contract.id)
    terms = {p.severity: PolicyOut.model_validate(p) for p in current}
    return ContractOut.model_validate(
        {
            **{
                name: getattr(contract, name)
                for name in ContractOut.model_fields
                if name not in ("terms", "version")
            },
            "terms": terms,
            "version": max((p.version for p in current), default=0),
        }
    )


@router.post(
    "/counterparties",
    status_code=status.HTTP_201_CREATED,
    response_model=CounterpartyOut,
    summary="Add a counterparty",
)
async def create_counterparty(
    body: CounterpartyCreate, principal: AdminPrincipal, session: SessionDep
) -> CounterpartyOut:
    """A contractor or customer the organization pays and charges under SLA contracts, with
    its Stellar wallet. Names are unique (409)."""
    counterparty = await service.create_counterparty(
        session, principal.organization_id, principal.actor, body
    )
    return CounterpartyOut.model_validate(counterparty)


@router.get("/counterparties", response_model=Page[CounterpartyOut], summary="Counterparties")
async def list_counterparties(
    principal: CurrentPrincipal, session: SessionDep, page: CursorPageParamsDep
) -> Page[CounterpartyOut]:
    """Newest first; the default counterparty (the organization's own wallets) included."""
    rows, result = await paginate(session, select(Counterparty), page, id_column=Counterparty.id)
    result.results = [CounterpartyOut.model_validate(row) for row in rows]
    return result


@router.get(
    "/counterparties/{counterparty_id}", response_model=CounterpartyOut, summary="One counterparty"
)
async def get_counterparty(
    counterparty_id: CounterpartyId, principal: CurrentPrincipal, session: SessionDep
) -> CounterpartyOut:
    """The counterparty and its wallet."""
    return CounterpartyOut.model_validate(await service.get_counterparty(session, counterparty_id))


@router.patch(
    "/counterparties/{counterparty_id}",
    response_model=CounterpartyOut,
    summary="Rename a counterparty or change its wallet",
)
async def update_counterparty(
    counterparty_id: CounterpartyId,
    body: CounterpartyUpdate,
    principal: AdminPrincipal,
    session: SessionDep,
) -> CounterpartyOut:
    """Only the given fields; audited. A new wallet is used by payments built from now on (a
    payment already issued keeps its envelope)."""
    counterparty = await service.update_counterparty(
        session, counterparty_id, principal.actor, body
    )
    return CounterpartyOut.model_validate(counterparty)


@router.post(
    "/sla/contracts",
    status_code=status.HTTP_201_CREATED,
    response_model=ContractOut,
    summary="Add an SLA contract",
)
async def create_contract(
    body: ContractCreate, principal: AdminPrincipal, session: SessionDep
) -> ContractOut:
    """A counterparty's terms for some sites (or all) over effective dates. An outage is settled
    under the contract in force for its site at detection: one naming the site wins over one
    for every site, and any wins over the default contract. A contract that could tie with
    another (the same site, or both for every site, over overlapping dates) is 409. Open
    outages it covers move to it at once."""
    contract = await service.create_contract(
        session, principal.organization_id, principal.actor, body
    )
    return await _present(session, contract)


@router.get("/sla/contracts", response_model=Page[ContractOut], summary="SLA contracts")
async def list_contracts(
    principal: CurrentPrincipal,
    session: SessionDep,
    page: CursorPageParamsDep,
    counterparty_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[ContractOut]:
    """Newest first, with their current terms; the default contract included."""
    stmt = select(SlaContract)
    if counterparty_id is not None:
        stmt = stmt.where(SlaContract.counterparty_id == counterparty_id)
    rows, result = await paginate(session, stmt, page, id_column=SlaContract.id)
    result.results = [await _present(session, row) for row in rows]
    return result


@router.get("/sla/contracts/{contract_id}", response_model=ContractOut, summary="One contract")
async def get_contract(
    contract_id: ContractId, principal: CurrentPrincipal, session: SessionDep
) -> ContractOut:
    """Its scope, dates and current terms per severity."""
    return await _present(session, await service.get_contract(session, contract_id))


@router.patch(
    "/sla/contracts/{contract_id}", response_model=ContractOut, summary="Rename or end a contract"
)
async def update_contract(
    contract_id: ContractId, body: ContractUpdate, principal: AdminPrincipal, session: SessionDep
) -> ContractOut:
    """`effective_to` ends it: outages detected from then on are settled under the contract
    that covers them next (open ones move at once). Terms change with `PUT .../terms/...`."""
    contract = await service.update_contract(
        session, principal.organization_id, contract_id, principal.actor, body
    )
    return await _present(session, contract)


@router.get(
    "/sla/contracts/{contract_id}/versions",
    response_model=list[TermsVersionOut],
    summary="Every version of a contract's terms",
)
async def contract_versions(
    contract_id: ContractId, principal: CurrentPrincipal, session: SessionDep
) -> list[TermsVersionOut]:
    """Oldest first: what each version changed, who saved it and when; results name the
    version they used (`policy_version`)."""
    contract = await service.get_contract(session, contract_id)
    return [
        TermsVersionOut.model_validate(p) for p in await policies.versions(session, contract.id)
    ]


@router.put(
    "/sla/contracts/{contract_id}/terms/{severity}",
    response_model=PolicyOut,
    summary="Change a contract's terms for a severity",
)
async def put_contract_terms(
    contract_id: ContractId,
    severity: Severity,
    body: PolicyUpdate,
    principal: AdminPrincipal,
    session: SessionDep,
) -> PolicyOut:
    """A new immutable version when the terms differ; the same terms again return the current
    version unchanged (no new version, nothing audited)."""
    contract = await service.get_contract(session, contract_id)
    policy = await policies.put_policy(
        session,
        principal.organization_id,
        contract.id,
        severity,
        PolicyTerms(body.threshold_minutes, body.penalty_per_minute, body.reward_base),
        principal.actor,
    )
    return PolicyOut.model_validate(policy)
