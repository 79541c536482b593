from __future__ import annotations

from typing import Annotated

from fastapi import Path, status
from sqlalchemy import select

from app.core.db import SessionDep
from app.core.pagination import CursorPageParamsDep, Page, paginate
from app.core.routing import APIRouter
from app.identity.dependencies import CurrentPrincipal, Principal, requires
from app.identity.roles import Role
from app.incidents import service, usage
from app.incidents.models import Incident
from app.incidents.schemas import (
    IncidentCreate,
    IncidentCreated,
    IncidentOut,
    IncidentUpdate,
    InvestigationOut,
    InvestigationRequest,
    InvestigationStarted,
    UsageOut,
)

router = APIRouter(tags=["Incidents"])

# The seed: admin, owner or operator; machine clients with an API key of role operator.
IntakePrincipal = Annotated[Principal, requires(Role.operator, api_key=True)]
IncidentId = Annotated[str, Path(max_length=64)]


@router.post(
    "/incidents/chat",
    response_model=IncidentCreated,
    status_code=status.HTTP_201_CREATED,
    summary="Report an incident",
)
async def create_incident(
    body: IncidentCreate, principal: IntakePrincipal, session: SessionDep
) -> IncidentCreated:
    """Triaged in the same transaction: `severity` is the rules' (`medium` when none
    applies), services and links are on `GET /incidents/{id}`; status `open`. Takes one event
    from the monthly quota: 429 `event_quota_exceeded` when none is left."""
    incident, left = await service.create(session, principal.organization_id, principal.actor, body)
    return IncidentCreated(
        incidentId=incident.id,
        title=incident.title,
        severity=incident.severity,
        status=incident.status,
        source=incident.source,
        investigationsRemaining=left.investigations_remaining,
        eventsRemaining=left.events_remaining,
    )


@router.get("/incidents", response_model=Page[IncidentOut], summary="List incidents")
async def list_incidents(
    principal: CurrentPrincipal, session: SessionDep, page: CursorPageParamsDep
) -> Page[IncidentOut]:
    """Incidents of the organization, newest first, with their triage."""
    rows, result = await paginate(session, select(Incident), page, id_column=Incident.id)
    result.results = [IncidentOut.model_validate(row) for row in rows]
    return result


@router.get("/incidents/{incident_id}", response_model=IncidentOut, summary="One incident")
async def get_incident(
    incident_id: IncidentId, principal: CurrentPrincipal, session: SessionDep
) -> IncidentOut:
    """One incident: severity, services and triage links, status with who resolved or closed
    it and when, and the linked outage."""
    return IncidentOut.model_validate(await service.get(session, incident_id))


@router.patch("/incidents/{incident_id}", response_model=IncidentOut, summary="Change an incident")
async def update_incident(
    incident_id: IncidentId, body: IncidentUpdate, principal: IntakePrincipal, session: SessionDep
) -> IncidentOut:
    """Only the given fields change. `status`: open, investigating, resolved (stamps
    `resolved_at`, `resolved_by`), closed (stamps `closed_at`, `closed_by`); a resolved
    incident may be reopened; closed is final (409 to any change). `outage_id` links one of
    the organization's outages (404 otherwise), null unlinks. Emits `incident.resolved`,
    `incident.closed` or `incident.updated`, with an audit row."""
    incident = await service.update(session, incident_id, principal.actor, body)
    return IncidentOut.model_validate(incident)


@router.post("/incidents/{incident_id}/triage", response_model=IncidentOut, summary="Triage")
async def triage_incident(
    incident_id: IncidentId, principal: IntakePrincipal, session: SessionDep
) -> IncidentOut:
    """Classifies severity and services from the text (keyword rules) and links open outages
    and the last day's faults of the same services or named sites, as intake does. Re-running
    re-classifies (after an edit of the text, say); a closed incident is 409."""
    return IncidentOut.model_validate(await service.retriage(session, incident_id))


@router.post(
    "/investigations",
    response_model=InvestigationStarted,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Investigate an incident",
)
async def start_investigation(
    body: InvestigationRequest, principal: IntakePrincipal, session: SessionDep
) -> InvestigationStarted:
    """Runs in the background; follow it at `GET /investigations/{id}`. An `open` incident
    becomes `investigating`. Takes one investigation from the monthly quota (429
    `investigation_quota_exceeded`)."""
    return await _start(body, principal, session)


@router.post(
    "/investigation",
    response_model=InvestigationStarted,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Investigate an incident (seed path)",
)
async def seed_start_investigation(
    body: InvestigationRequest, principal: IntakePrincipal, session: SessionDep
) -> InvestigationStarted:
    """`POST /investigations` at the path of the CauseFlow seed (`/investigation/`, which is
    served too): the same body, answer and quota."""
    return await _start(body, principal, session)


# The seed's own spelling, trailing slash included, answered rather than redirected (a 307
# is not followed by every client). Out of the document: it is the operation above.
router.add_api_route(
    "/investigation/",
    seed_start_investigation,
    methods=["POST"],
    response_model=InvestigationStarted,
    status_code=status.HTTP_202_ACCEPTED,
    include_in_schema=False,
    name="seed_start_investigation_slash",
)


async def _start(
    body: InvestigationRequest, principal: Principal, session: SessionDep
) -> InvestigationStarted:
    found, left = await service.start_investigation(
        session, principal.organization_id, principal.actor, body.incident_id
    )
    return InvestigationStarted(
        id=found.id,
        incident_id=found.incident_id,
        status=found.status,
        investigations_remaining=left.investigations_remaining,
    )


@router.get(
    "/investigations/{investigation_id}",
    response_model=InvestigationOut,
    summary="An investigation and its findings",
)
async def get_investigation(
    investigation_id: Annotated[str, Path(max_length=64)],
    principal: CurrentPrincipal,
    session: SessionDep,
) -> InvestigationOut:
    """An investigation: `queued` until its job has run, then `completed` with its findings
    (correlated outages and faults, similar past cases, ranked hypotheses)."""
    return InvestigationOut.model_validate(await service.investigation(session, investigation_id))


@router.get("/usage", response_model=UsageOut, summary="This month's quotas and what is left")
async def get_usage(principal: CurrentPrincipal, session: SessionDep) -> UsageOut:
    """This month's incident quotas for the organization's plan: limit, used and remaining."""
    now = await usage.current(session, principal.organization_id)
    return UsageOut(
        plan=now.plan,
        month=now.month,
        events={
            "limit": now.events_limit,
            "used": now.events_used,
            "remaining": now.events_remaining,
        },
        investigations={
            "limit": now.investigations_limit,
            "used": now.investigations_used,
            "remaining": now.investigations_remaining,
        },
    )
