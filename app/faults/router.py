from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

import orjson
from fastapi import Path, Query, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import utcnow
from app.core.db import SessionDep
from app.core.pagination import CursorPageParamsDep, Page, paginate
from app.core.routing import APIRouter
from app.core.schemas import AwareDatetime
from app.core.tenancy import scope_session_to
from app.faults import batch, service, storm
from app.faults.models import Fault, FaultSeverity
from app.faults.schemas import (
    CommentCreate,
    CommentOut,
    FaultBatchIn,
    FaultBatchOut,
    FaultCreate,
    FaultOut,
    FaultStormOut,
    RulesOut,
    RulesUpdate,
    TokenCreate,
    TokenOut,
    TopResource,
)
from app.identity.dependencies import (
    AdminPrincipal,
    CurrentPrincipal,
    EngineerPrincipal,
    OperatorPrincipal,
    Principal,
    requires,
)
from app.identity.roles import Role

router = APIRouter(prefix="/faults", tags=["Faults"])

IntakePrincipal = Annotated[Principal, requires(Role.engineer, api_key=True)]
FaultId = Annotated[str, Path(max_length=64)]
StatusFilter = Literal["unresolved", "resolved", "recent"]


async def present(session: AsyncSession, faults: list[Fault]) -> list[FaultOut]:
    comments = await service.comments_of(session, [f.id for f in faults])
    return [
        FaultOut.model_validate(
            {
                **{name: getattr(f, name) for name in FaultOut.model_fields if hasattr(f, name)},
                "customer_id": f.organization_id,
                "comments": [CommentOut.model_validate(c) for c in comments[f.id]],
            }
        )
        for f in faults
    ]


@router.post(
    "",
    response_model=FaultOut,
    status_code=status.HTTP_201_CREATED,
    summary="Report a fault",
    responses={200: {"model": FaultOut, "description": "A repeat, folded into its fault"}},
)
async def create_fault(
    body: FaultCreate, principal: IntakePrincipal, session: SessionDep, response: Response
) -> FaultOut:
    """201 for a new fault. A repeat of an unresolved fault (same resource and type) within
    `FAULT_DEDUP_WINDOW_SECONDS` answers 200 with the existing fault and its `occurrences`."""
    fault, created = await service.ingest(session, principal.organization_id, principal.actor, body)
    if not created:
        response.status_code = status.HTTP_200_OK
    return (await present(session, [fault]))[0]


@router.post("/batch", response_model=FaultBatchOut, summary="Report up to 1 000 faults at once")
async def create_faults(
    body: FaultBatchIn, principal: IntakePrincipal, session: SessionDep
) -> Response:
    """One outcome per report, in order: `created`, `folded` into the unresolved fault it
    repeats (also a repeat of an earlier report of the same batch), or `refused` with its own
    errors (the others still go in). Deduplication, correlation and outage opening are those of
    `POST /faults`; the batch is one transaction, idempotent under `Idempotency-Key`."""
    outcomes = await batch.ingest_batch(
        session, principal.organization_id, principal.actor, body.faults
    )
    # Only a fault that existed before the batch can have comments.
    folded = [o.fault.id for o in outcomes if o.status == "folded" and o.fault is not None]
    comments = await service.comments_of(session, folded)
    shown: dict[str, dict[str, Any]] = {}
    results = []
    for o in outcomes:
        fault = None
        if o.fault is not None:
            fault = shown.get(o.fault.id) or shown.setdefault(
                o.fault.id, _fault_fields(o.fault, comments.get(o.fault.id, []))
            )
        results.append({"index": o.index, "status": o.status, "fault": fault, "errors": o.errors})
    counts = {kind: sum(o.status == kind for o in outcomes) for kind in ("created", "folded")}
    answer = {**counts, "refused": len(outcomes) - sum(counts.values()), "results": results}
    # Written straight to JSON in the documented shape: validating 1 000 nested models again
    # cost more than storing them.
    return Response(orjson.dumps(answer, option=orjson.OPT_UTC_Z), media_type="application/json")


@router.get("/storm", response_model=FaultStormOut, summary="Recent fault intake, summarised")
async def storm_summary(
    principal: CurrentPrincipal,
    session: SessionDep,
    minutes: Annotated[int, Query(ge=1, le=1440, description="The window, in minutes.")] = 15,
) -> dict[str, Any]:
    """What a storm looks like: faults first seen per minute, faults repeating, the top sites and
    types, and the outages opened by correlation. During a storm the `fault.storm` webhook event
    carries the same summary for the last minute, once a minute."""
    until = utcnow()
    return await storm.summary(session, until - timedelta(minutes=minutes), until)


_FAULT_FIELDS = tuple(
    name for name in FaultOut.model_fields if name not in ("customer_id", "comments")
)


def _fault_fields(fault: Fault, comments: list[Any]) -> dict[str, Any]:
    fields = {name: getattr(fault, name) for name in _FAULT_FIELDS}
    fields["customer_id"] = fault.organization_id
    fields["suppressed"] = fault.maintenance_window_id is not None  # FaultOut's computed field
    fields["comments"] = [
        {"user_id": c.user_id, "comment": c.comment, "created_at": c.created_at} for c in comments
    ]
    return fields


@router.get("", response_model=Page[FaultOut], summary="List faults")
async def list_faults(
    principal: CurrentPrincipal,
    session: SessionDep,
    page: CursorPageParamsDep,
    status_: Annotated[StatusFilter | None, Query(alias="status")] = None,
    severity: FaultSeverity | None = None,
    type_: Annotated[str | None, Query(alias="type", max_length=100)] = None,
    resource_id: Annotated[str | None, Query(max_length=255)] = None,
    site: Annotated[
        str | None, Query(max_length=255, description="Any ancestor in the path")
    ] = None,
    from_: Annotated[AwareDatetime | None, Query(alias="from")] = None,
    to: AwareDatetime | None = None,
    suppressed: Annotated[
        bool | None,
        Query(description="Only faults a maintenance window kept from opening outages (true)."),
    ] = None,
) -> Page[FaultOut]:
    """Faults, newest first. `site` matches any ancestor in `resource_ancestry_path`;
    `status=recent` is the last 24 hours. Offset or cursor paging."""
    stmt = service.filtered(
        suppressed=suppressed,
        status=status_,
        severity=severity.value if severity else None,
        type_=type_,
        resource_id=resource_id,
        site=site,
        start=from_,
        end=to,
    )
    rows, result = await paginate(session, stmt, page, id_column=Fault.id)
    result.results = await present(session, list(rows))
    return result


@router.get("/top", response_model=list[TopResource], summary="Most faulty resources")
async def top(
    principal: CurrentPrincipal,
    session: SessionDep,
    days: Annotated[int, Query(ge=1, le=365)] = 14,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> list[TopResource]:
    """The resources with the most faults over the last `days` (default 14), with their total
    occurrences."""
    return [
        TopResource.model_validate(r) for r in await service.top_resources(session, days, limit)
    ]


@router.get("/rules", response_model=RulesOut, summary="Correlation rules")
async def get_rules(principal: CurrentPrincipal, session: SessionDep) -> RulesOut:
    """The organization's correlation rules (auto-open and auto-resolve outages)."""
    return RulesOut.model_validate(await service.rules(session, principal.organization_id))


@router.put("/rules", response_model=RulesOut, summary="Change the correlation rules")
async def put_rules(body: RulesUpdate, principal: AdminPrincipal, session: SessionDep) -> RulesOut:
    """`auto_open_outages` (default on): a CRITICAL or HIGH fault on a site with no open outage
    opens one. `auto_resolve_outages` (default off): resolving the last fault of an auto-opened
    outage resolves it."""
    rules = await service.update_rules(session, principal.organization_id, principal.actor, body)
    return RulesOut.model_validate(rules)


@router.post(
    "/tokens",
    response_model=TokenOut,
    status_code=status.HTTP_201_CREATED,
    summary="Create a read-only share token",
)
async def create_token(
    body: TokenCreate, principal: OperatorPrincipal, session: SessionDep, response: Response
) -> TokenOut:
    """The token is shown once; `GET /faults/shared?token=` reads with it until it expires or
    is revoked, limited to `site` when given."""
    row, token = await service.create_token(
        session, principal.organization_id, principal.actor, body
    )
    return TokenOut(
        id=row.id, token=token, site=row.site, expires_at=row.expires_at, revoked_at=None
    )


@router.delete("/tokens/{token_id}", response_model=TokenOut, summary="Revoke a share token")
async def revoke_token(
    token_id: Annotated[str, Path(max_length=64)], principal: OperatorPrincipal, session: SessionDep
) -> TokenOut:
    """Revokes a share token: reads with it answer 401 from now on."""
    return TokenOut.model_validate(await service.revoke_token(session, token_id, principal.actor))


@router.get("/shared", response_model=Page[FaultOut], summary="Faults through a share token")
async def shared(
    session: SessionDep,
    page: CursorPageParamsDep,
    token: Annotated[str, Query(min_length=10, max_length=200)],
    site: Annotated[str | None, Query(max_length=255)] = None,
    status_: Annotated[StatusFilter | None, Query(alias="status")] = None,
) -> Page[FaultOut]:
    """No login: the token is the credential. Read-only, and limited to its site if it has one."""
    scope = await service.token_scope(session, token, site)
    await scope_session_to(session, scope.organization_id)
    stmt = service.filtered(status=status_, site=scope.site or site)
    rows, result = await paginate(session, stmt, page, id_column=Fault.id)
    result.results = await present(session, list(rows))
    return result


@router.get("/{fault_id}", response_model=FaultOut, summary="One fault")
async def get_fault(
    fault_id: FaultId, principal: CurrentPrincipal, session: SessionDep
) -> FaultOut:
    """One fault with its comments (oldest first), occurrences and correlated outage."""
    return (await present(session, [await service.get(session, fault_id)]))[0]


@router.post("/{fault_id}/resolve", response_model=FaultOut, summary="Resolve a fault")
async def resolve_fault(
    fault_id: FaultId, principal: EngineerPrincipal, session: SessionDep
) -> FaultOut:
    """Its `ttl` becomes `FAULT_TTL_DAYS` after now. 409 when already resolved."""
    fault = await service.resolve(session, fault_id, principal.actor)
    return (await present(session, [fault]))[0]


@router.delete("/{fault_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a fault")
async def delete_fault(
    fault_id: FaultId, principal: AdminPrincipal, session: SessionDep
) -> Response:
    """Deletes a fault and its comments. Audited."""
    await service.remove(session, fault_id, principal.actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{fault_id}/comments",
    response_model=FaultOut,
    status_code=status.HTTP_201_CREATED,
    summary="Comment on a fault",
)
async def comment(
    fault_id: FaultId, body: CommentCreate, principal: EngineerPrincipal, session: SessionDep
) -> FaultOut:
    """Adds a comment (at most 2000 characters) and returns the fault with every comment."""
    fault = await service.get(session, fault_id)
    await service.add_comment(session, fault, principal.id, body.comment)
    return (await present(session, [fault]))[0]
