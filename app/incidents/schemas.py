from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.json_schema import SkipJsonSchema

from app.contracts.engine import Severity
from app.core.schemas import InputModel, OutputModel

Title = Annotated[str, Field(min_length=1, max_length=255)]
Description = Annotated[str, Field(min_length=10, max_length=4000)]
Status = Literal["open", "investigating", "resolved", "closed"]
_NOT_NULLABLE = ("title", "description", "severity", "status")


class IncidentCreate(InputModel):
    title: Title
    description: Description


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


class IncidentUpdate(InputModel):
    # `X | SkipJsonSchema[None]`: optional, never null (leave it out to keep the value).
    title: Title | SkipJsonSchema[None] = None
    description: Description | SkipJsonSchema[None] = None
    severity: Severity | SkipJsonSchema[None] = Field(
        default=None, description="Overrides triage's; `POST .../triage` classifies again."
    )
    status: Status | SkipJsonSchema[None] = Field(
        default=None,
        description="`resolved` stamps `resolved_at`, `closed` stamps `closed_at` (closed is "
        "final: 409 to any later change); a resolved incident may be reopened.",
    )
    outage_id: Annotated[str, Field(max_length=64)] | None = Field(
        default=None,
        description="Links the outage this incident is about (one of your organization's, "
        "else 404); null unlinks.",
    )

    @model_validator(mode="before")
    @classmethod
    def _required_fields_are_not_null(cls, data: Any) -> Any:
        if isinstance(data, dict):
            nulls = [name for name in _NOT_NULLABLE if name in data and data[name] is None]
            if nulls:
                raise ValueError(f"{', '.join(nulls)} cannot be null; leave it out instead")
        return data


class IncidentOut(OutputModel):
    id: str
    title: str
    description: str
    severity: Severity
    status: Status
    source: str
    services: list[str]
    triage: dict[str, Any] | None
    triaged_at: datetime | None
    outage_id: str | None = Field(description="The linked outage, if any.")
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    closed_at: datetime | None
    closed_by: str | None


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
