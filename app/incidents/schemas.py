from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.core.schemas import InputModel, OutputModel


class IncidentCreate(InputModel):
    title: str = Field(min_length=1, max_length=255)
    description: str = Field(min_length=10, max_length=4000)


class IncidentCreated(BaseModel):
    """The seed's response, camelCase as it shows it."""

    model_config = ConfigDict(populate_by_name=True)

    incidentId: str  # noqa: N815
    title: str
    severity: str
    status: str
    source: str
    investigationsRemaining: int  # noqa: N815
    eventsRemaining: int  # noqa: N815


class IncidentOut(OutputModel):
    id: str
    title: str
    description: str
    severity: str
    status: str
    source: str
    services: list[str]
    triage: dict[str, Any] | None
    triaged_at: datetime | None
    created_at: datetime


class InvestigationRequest(InputModel):
    incident_id: str = Field(max_length=64)


class InvestigationOut(OutputModel):
    id: str
    incident_id: str
    status: str
    findings: dict[str, Any] | None
    created_at: datetime
    completed_at: datetime | None


class InvestigationStarted(OutputModel):
    id: str
    incident_id: str
    status: str
    investigations_remaining: int


class UsageOut(OutputModel):
    plan: str
    month: str
    events: dict[str, int]
    investigations: dict[str, int]
