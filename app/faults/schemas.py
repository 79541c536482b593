from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    Field,
    StrictBool,
    WithJsonSchema,
    computed_field,
    model_validator,
)

from app.core.schemas import (
    PYTHON_BLANKS,
    WITHHELD_ON_REPLAY,
    InputModel,
    OutputModel,
    WholeNumber,
)
from app.faults.models import FaultSeverity

Slug = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")]
Ident = Annotated[str, Field(min_length=1, max_length=255)]


_SEGMENT = rf"[^|]*[^|{PYTHON_BLANKS}][^|]*"  # a segment is blank to Python's strip()
ANCESTRY_PATTERN = rf"^{_SEGMENT}(?:\|{_SEGMENT})*$"


def _ancestry(value: str | None) -> str | None:
    if value is None:
        return None
    segments = value.split("|")
    if any(not s.strip() for s in segments):
        raise ValueError(
            "resource_ancestry_path has an empty segment ('a||b', or a leading/trailing '|')"
        )
    return value


class FaultCreate(InputModel):
    resource_id: Ident = Field(examples=["dev_2j4k2l2j3k4l2j3k4"])
    microservice_id: Ident = Field(examples=["manual-api-entry"])
    type: Slug = Field(examples=["wan-degradation"])
    severity: FaultSeverity
    message: str = Field(min_length=1, max_length=1000)
    cause: str = Field(min_length=1, max_length=5000)
    resource_ancestry_path: Annotated[
        str | None,
        Field(
            default=None,
            max_length=2048,
            json_schema_extra={"pattern": ANCESTRY_PATTERN},
            description="Segments separated by `|`, none of them blank: `region|site|device`.",
        ),
        AfterValidator(_ancestry),
    ] = None


class CommentCreate(InputModel):
    comment: str = Field(min_length=1, max_length=2000)


class CommentOut(OutputModel):
    user_id: str
    comment: str
    created_at: datetime


class FaultOut(OutputModel):
    id: str
    resource_id: str
    customer_id: str
    microservice_id: str
    type: str
    status: str
    severity: str
    message: str
    cause: str
    created_at: datetime
    resolved_at: datetime | None
    resource_ancestry_path: str | None
    ttl: int | None = Field(
        description="The Unix second the fault expires: FAULT_TTL_DAYS after its last report, "
        "or after its resolution."
    )
    comments: list[CommentOut] = []
    occurrences: int
    last_seen_at: datetime
    outage_id: str | None
    opened_outage: bool
    maintenance_window_id: str | None = Field(
        default=None,
        description="Reported during this maintenance window of its site: it is recorded, "
        "and suppressed (it opened no outage).",
    )

    @computed_field(description="True when a maintenance window kept it from opening an outage.")  # type: ignore[prop-decorator]
    @property
    def suppressed(self) -> bool:
        return self.maintenance_window_id is not None


class TokenCreate(InputModel):
    expires_in_minutes: WholeNumber = Field(ge=1, le=43200)
    site: Ident | None = None


class TokenOut(OutputModel):
    secret_fields: ClassVar[tuple[str, ...]] = ("token",)

    id: str
    token: str | None = Field(
        default=None,
        description="Shown once, at creation." + WITHHELD_ON_REPLAY,
    )
    site: str | None
    expires_at: datetime
    revoked_at: datetime | None


class RulesOut(OutputModel):
    auto_open_outages: bool
    auto_resolve_outages: bool


class RulesUpdate(InputModel):
    auto_open_outages: StrictBool | None = None
    auto_resolve_outages: StrictBool | None = None


class TopResource(OutputModel):
    resource_id: str
    faults: int
    occurrences: int
    last_seen_at: datetime


MAX_BATCH = 1000
_FAULT_ITEMS = WithJsonSchema(
    {
        "type": "array",
        # A report that is not a valid FaultCreate is refused alone, in its result: the body
        # takes any item, and says which shape each should have.
        "items": {
            "anyOf": [{"$ref": "#/components/schemas/FaultCreate"}, {}],
            "description": "A FaultCreate; anything else is refused in its own result.",
        },
        "minItems": 1,
        "maxItems": MAX_BATCH,
    }
)


class FaultBatchIn(InputModel):
    # Items are checked one by one (an invalid report is refused alone, with its errors),
    # so the schema of each is documented rather than enforced on the whole body.
    faults: Annotated[list[Any], Field(min_length=1, max_length=MAX_BATCH), _FAULT_ITEMS] = Field(
        description="Up to 1 000 reports, each of the `POST /faults` shape."
    )

    @model_validator(mode="before")
    @classmethod
    def _no_nul_characters(cls, data: Any) -> Any:
        """Replaces the body-wide NUL check: a NUL in one report refuses that report alone
        (each is checked as a `POST /faults` body, which refuses NUL characters)."""
        return data


class ItemError(OutputModel):
    loc: list[str | int]
    msg: str
    type: str


class FaultBatchItemOut(OutputModel):
    index: int = Field(description="The report's position in the batch.")
    status: Literal["created", "folded", "refused"] = Field(
        description="`created`: a new fault; `folded`: a repeat counted on the unresolved fault "
        "it repeats (`fault.occurrences`); `refused`: not a valid report (`errors`)."
    )
    fault: FaultOut | None
    errors: list[ItemError] = []


class FaultBatchOut(OutputModel):
    created: int
    folded: int
    refused: int
    results: list[FaultBatchItemOut]


class StormMinute(OutputModel):
    minute: str = Field(description="The minute (UTC, ISO 8601).")
    new_faults: int


class StormSite(OutputModel):
    site: str
    new_faults: int


class StormType(OutputModel):
    type: str
    new_faults: int


class StormOutage(OutputModel):
    outage_id: str
    site: str
    severity: str
    status: str


class FaultStormOut(OutputModel):
    since: datetime
    until: datetime
    new_faults: int = Field(description="Faults first seen in the window.")
    repeating_faults: int = Field(
        description="Faults first seen before the window and reported again in it."
    )
    per_minute: list[StormMinute]
    top_sites: list[StormSite]
    top_types: list[StormType]
    outages_opened: list[StormOutage] = Field(
        description="Outages opened by faults first seen in the window."
    )
