from __future__ import annotations

from typing import Any

from fastapi import status
from fastapi.responses import JSONResponse

from app.contracts import policies
from app.contracts import service as contracts
from app.contracts.engine import PolicyTerms, Severity, evaluate
from app.contracts.schemas import PolicyOut, PolicyUpdate
from app.core.db import SessionDep
from app.core.errors import NotFound
from app.core.routing import APIRouter
from app.identity.dependencies import AdminPrincipal, CurrentPrincipal, OperatorPrincipal
from app.jobs import service as jobs
from app.outages import service as outages
from app.outages.dependencies import OutageId
from app.outages.models import OutageStatus
from app.sla import contract, service
from app.sla.schemas import (
    CalculatedResultOut,
    CalculateOut,
    CalculateRequest,
    JobAccepted,
    PreviewOut,
    PreviewRequest,
    RecalculateOut,
    RecalculateRequest,
    SlaConfigOut,
    SlaResultOut,
)
from app.sla.tasks import RECALCULATE

router = APIRouter(prefix="/sla", tags=["SLA"])

INLINE_RECALCULATION_LIMIT = 100


@router.get("/config", response_model=SlaConfigOut, summary="The SLA policy in force, per severity")
@router.get(
    "/configs",
    name="get_configs",
    response_model=SlaConfigOut,
    summary="The SLA policy in force (the seed's path)",
)
async def get_config(principal: CurrentPrincipal, session: SessionDep) -> SlaConfigOut:
    """`{critical: {...}, high: {...}, medium: {...}, low: {...}, policy_version}`: each
    severity's terms in the organization's default contract (what no other contract covers),
    with the version that introduced them; `policy_version` is its latest version. Other
    contracts: `GET /sla/contracts`."""
    default = await contracts.default_contract(session)
    current = await policies.current_policies(session, default.id)
    return SlaConfigOut.model_validate(
        {
            **{p.severity: PolicyOut.model_validate(p) for p in current},
            "policy_version": max((p.version for p in current), default=0),
        }
    )


@router.put("/config/{severity}", response_model=PolicyOut, summary="Change a severity's terms")
async def put_config(
    severity: Severity, body: PolicyUpdate, principal: AdminPrincipal, session: SessionDep
) -> PolicyOut:
    """The default contract's terms. Writes a new immutable version when they differ (the same
    terms again change nothing); results already computed keep the version they used. Use
    `POST /sla/recalculate` to apply the new terms to resolved outages."""
    default = await contracts.default_contract(session)
    policy = await policies.put_policy(
        session,
        principal.organization_id,
        default.id,
        severity,
        PolicyTerms(body.threshold_minutes, body.penalty_per_minute, body.reward_base),
        principal.actor,
    )
    return PolicyOut.model_validate(policy)


@router.post("/calculate", response_model=CalculateOut, summary="Compute a resolved outage's SLA")
async def calculate(
    body: CalculateRequest, principal: OperatorPrincipal, session: SessionDep
) -> CalculateOut:
    """Idempotent per outage and policy version: when the latest result already used the
    current policy, it is returned unchanged. 409 while the outage is open."""
    # The row lock orders this with resolve, dispute acceptance and recalculation.
    outage = await outages.get(session, body.outage_id, for_update=True)
    result = await service.calculate(session, outage, principal.actor)
    return CalculateOut(
        outage_id=outage.id,
        sla_result=CalculatedResultOut.of(result),
        contract_invocation=await contract.invocation_of(session, result),
    )


@router.post("/preview", response_model=PreviewOut, summary="Compute an outcome without saving")
async def preview(
    body: PreviewRequest, principal: CurrentPrincipal, session: SessionDep
) -> PreviewOut:
    """Uses the current terms for `severity` of the outage's contract (with `outage_id`), else
    of the default contract. Never writes anything."""
    if body.outage_id is not None:
        contract_id = (await outages.get(session, body.outage_id)).contract_id  # 404: foreign
    else:
        contract_id = (await contracts.default_contract(session)).id
    policy = await policies.current_policy(session, contract_id, body.severity)
    outcome = evaluate(body.mttr_minutes, policies.terms_of(policy))
    return PreviewOut(
        outage_id=body.outage_id,
        severity=body.severity.value,
        mttr_minutes=outcome.mttr_minutes,
        threshold_minutes=outcome.threshold_minutes,
        status=outcome.status.value,
        rating=outcome.rating.value,
        payment_type=outcome.payment_type.value,
        amount=outcome.amount,
        signed_amount=outcome.signed_amount,
        policy_version=policy.version,
    )


@router.get("/results/{outage_id}", response_model=SlaResultOut, summary="Latest SLA result")
async def latest(
    outage_id: OutageId, principal: CurrentPrincipal, session: SessionDep
) -> SlaResultOut:
    """404 while the outage is unresolved."""
    outage = await outages.get(session, outage_id)
    result = await service.latest_result(session, outage.id)
    if result is None or outage.status != OutageStatus.resolved:
        raise NotFound("This outage has no SLA result yet (it is not resolved).")
    return SlaResultOut.model_validate(result)


_RECALCULATION_JOB: dict[int | str, dict[str, Any]] = {
    202: {
        "model": JobAccepted,
        "description": "More than 100 outages, or `all`: "
        "runs as a background job; its result holds the same summary.",
    }
}


@router.post(
    "/recalculate",
    response_model=RecalculateOut,
    summary="Recompute outcomes after a change",
    responses=_RECALCULATION_JOB,
)
@router.post(
    "/bulk-recompute",
    name="bulk_recompute",
    response_model=RecalculateOut,
    summary="Recompute outcomes after a change (the seed's path)",
    responses=_RECALCULATION_JOB,
)
async def recalculate(
    body: RecalculateRequest, principal: AdminPrincipal, session: SessionDep
) -> Any:
    """A new result only where the current policy changes the outcome; `is_latest` stays on
    exactly one result per outage."""
    if body.all or len(body.outage_ids) > INLINE_RECALCULATION_LIMIT:
        job = jobs.enqueue(
            session,
            RECALCULATE,
            {
                "organization_id": principal.organization_id,
                "outage_ids": body.outage_ids,
                "all": body.all,
                "actor_type": principal.actor.type,
                "actor_id": principal.actor.id,
            },
            organization_id=principal.organization_id,
        )
        await session.flush()
        return JSONResponse(
            JobAccepted(job_id=job.id).model_dump(), status_code=status.HTTP_202_ACCEPTED
        )
    report = await service.recalculate(
        session, principal.organization_id, body.outage_ids, principal.actor
    )
    return RecalculateOut(**report.as_dict())
