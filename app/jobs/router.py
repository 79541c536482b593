from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Query
from sqlalchemy import select

from app.core.db import SessionDep
from app.core.errors import NotFound
from app.core.pagination import CursorPageParamsDep, Page, paginate
from app.core.routing import APIRouter
from app.identity.dependencies import OperatorPrincipal
from app.jobs.models import Job
from app.jobs.schemas import JobOut

router = APIRouter(prefix="/jobs", tags=["Jobs"])

JobStatusFilter = Literal["queued", "running", "succeeded", "dead"]


@router.get("", response_model=Page[JobOut], summary="List background jobs")
async def list_jobs(
    principal: OperatorPrincipal,
    session: SessionDep,
    page: CursorPageParamsDep,
    status: Annotated[JobStatusFilter | None, Query()] = None,
    kind: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[JobOut]:
    """The organization's jobs, newest first: status, attempts, last error and next run.
    `status=dead` lists the jobs that exhausted their retries."""
    stmt = select(Job).where(Job.organization_id == principal.organization_id)
    if status:
        stmt = stmt.where(Job.status == status)
    if kind:
        stmt = stmt.where(Job.kind == kind)
    rows, result = await paginate(session, stmt, page, id_column=Job.id)
    result.results = [JobOut.model_validate(row) for row in rows]
    return result


@router.get("/{job_id}", response_model=JobOut, summary="One background job")
async def get_job(job_id: str, principal: OperatorPrincipal, session: SessionDep) -> JobOut:
    """One background job: status, attempts, last error and result."""
    job = (
        await session.execute(
            select(Job).where(Job.id == job_id, Job.organization_id == principal.organization_id)
        )
    ).scalar_one_or_none()
    if job is None:
        raise NotFound("Job not found.")
    return JobOut.model_validate(job)
