"""What the health routes answer."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field
from pydantic.json_schema import SkipJsonSchema

from app.core.schemas import OutputModel

CHECK = "`ok`, or `unavailable: <exception type>`."
RateLimits = Annotated[
    str,
    Field(
        description="Where rate limits are counted: `shared (Redis)`, `in-process (no "
        "REDIS_URL)`, or `degraded: ...` while Redis does not answer."
    ),
]


class HealthOut(OutputModel):
    status: Literal["ok"]


class LivenessOut(OutputModel):
    status: Literal["alive"]


class ReadinessChecksOut(OutputModel):
    database: str = Field(description=CHECK)
    # Absent (never null) when no Redis is configured.
    redis: str | SkipJsonSchema[None] = Field(
        default=None,
        description=f"{CHECK} Only when Redis is configured.",
        exclude_if=lambda value: value is None,
    )


class ReadinessOut(OutputModel):
    """200: every dependency answers."""

    status: Literal["ready"]
    checks: ReadinessChecksOut
    rate_limits: RateLimits


class ReadinessErrorOut(OutputModel):
    code: Literal["SERVICE_UNAVAILABLE"]
    message: str
    details: ReadinessChecksOut


class ReadinessFailureOut(OutputModel):
    """503: a dependency does not answer; `checks` says which."""

    status: Literal["unavailable"]
    checks: ReadinessChecksOut
    rate_limits: RateLimits
    error: ReadinessErrorOut
