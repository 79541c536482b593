"""What the analytics routes answer.

Several models put the fields of a small private base first: Pydantic lays out the fields of
the bases in reverse order (`class A(Totals, _Key)` is `_Key`'s fields, then `Totals`'), which
keeps the keys in the order the API has always sent them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, RootModel, computed_field
from pydantic.json_schema import SkipJsonSchema

from app.contracts.engine import Severity
from app.core.schemas import BucketDate, OutputModel, PeriodOut, UsdcOut, UTCTimestamp

SlaState = Literal["in_progress", "violated", "no_policy"]
IsoTimestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"})]


def _absent(value: object) -> bool:
    return value is None


class SlaTotals(OutputModel):
    outages_evaluated: int
    sla_met: int
    sla_violated: int
    violation_rate: float = Field(description="Percent of evaluated outages, 2 decimals.")
    average_mttr_minutes: float | None = Field(description="2 decimals; null when none.")
    total_penalties: UsdcOut
    total_rewards: UsdcOut
    net_amount: UsdcOut = Field(description="Rewards minus penalties.")


class _WithPeriod(OutputModel):
    period: PeriodOut


class _WithBucketDate(OutputModel):
    period: BucketDate


class _WithGroup(OutputModel):
    group: str = Field(description="The severity, region (`unknown` when none) or service.")


class SlaSummaryOut(SlaTotals, _WithPeriod):
    pass


class WindowBucketOut(SlaTotals, _WithBucketDate):
    pass


class SlaWindowOut(OutputModel):
    window: Literal["7d", "30d", "90d"]
    granularity: Literal["day", "week"]
    period: PeriodOut
    buckets: list[WindowBucketOut]


class SlaGroupOut(SlaTotals, _WithGroup):
    pass


class SlaAggregationOut(OutputModel):
    group_by: Literal["severity", "region", "service"]
    period: PeriodOut
    groups: list[SlaGroupOut]


class MttrOverallOut(OutputModel):
    average_mttr_minutes: float | None
    median_mttr_minutes: float | None
    total_outages: int
    sla_compliance_rate: float | None = Field(
        description="Percent of the outages' latest SLA results that met the SLA; null when none."
    )


class MttrGroupOut(OutputModel):
    group: str = Field(description="The site, the severity, or the day / week (`YYYY-MM-DD`).")
    count: int
    average_mttr_minutes: float
    median_mttr_minutes: float


class MttrSeverityOut(MttrGroupOut):
    @computed_field(description="The seed's name for `average_mttr_minutes` here.")
    def average_mttr(self) -> float:
        return self.average_mttr_minutes

    # Absent (never null) when no outage of this severity has an SLA result.
    sla_met: int | SkipJsonSchema[None] = Field(default=None, exclude_if=_absent)
    sla_violated: int | SkipJsonSchema[None] = Field(default=None, exclude_if=_absent)


class MttrStatsOut(OutputModel):
    period: PeriodOut
    group_by: Literal["site", "severity", "day", "week"] | None
    overall: MttrOverallOut
    by_severity: dict[Severity, MttrSeverityOut] = Field(
        description="Only the severities with resolved outages."
    )
    groups: list[MttrGroupOut] = Field(description="Empty unless `group_by` is given.")


class OutageClockOut(OutputModel):
    outage_id: str
    site_name: str
    severity: Severity
    detected_at: UTCTimestamp
    threshold_minutes: int | None = Field(description="Null when no policy was in force.")
    elapsed_minutes: int | None
    time_remaining_minutes: int | None
    sla_state: SlaState
    at_risk: bool | None


class SlaSnapshotOut(OutputModel):
    at: UTCTimestamp
    open_outages: list[OutageClockOut]
    counts_on_page: dict[SlaState, int] = Field(
        description="How many outages of this page are in each SLA state (states with none are "
        "left out)."
    )
    limit: int
    offset: int
    has_next: bool


class SlaExportRowOut(OutputModel):
    """One row of `GET /sla/export` (the CSV has the same columns)."""

    sla_result_id: str
    outage_id: str
    site_name: str
    severity: Severity
    status: Literal["met", "violated"]
    outcome: Literal["reward", "penalty", "none"]
    amount: str = Field(
        description="USDC as an exact decimal string, e.g. `1500.0000000` (unlike the other "
        "routes' JSON numbers: the CSV and the JSON rows are the same)."
    )
    mttr_minutes: int
    threshold_minutes: int
    rating: Literal["exceptional", "excellent", "good", "poor"]
    policy_version: int
    detected_at: IsoTimestamp
    resolved_at: IsoTimestamp | None
    computed_at: IsoTimestamp


class SlaExportOut(RootModel[list[SlaExportRowOut]]):
    """`GET /sla/export?format=json`: the rows, oldest result first."""


class DashboardFiltersOut(OutputModel):
    severity: Severity | None
    site: str | None = Field(description="A site id or name; null for every site.")


class _DashboardFigures(OutputModel):
    outages_evaluated: int = Field(description="Outages resolved in the range (latest results).")
    sla_met: int
    sla_violated: int
    compliance_rate: float | None = Field(
        description="Percent of evaluated outages whose SLA was met, 2 decimals; null when "
        "none was evaluated."
    )
    violation_rate: float = Field(description="Percent of evaluated outages, 2 decimals.")
    average_mttr_minutes: float | None = Field(description="2 decimals; null when none.")
    total_penalties: UsdcOut
    total_rewards: UsdcOut
    net_amount: UsdcOut = Field(description="Rewards minus penalties.")


class DashboardKpis(_DashboardFigures):
    outages_detected: int = Field(description="Outages detected in the range, open ones too.")
    mttr_p50_minutes: int | None = Field(description="Median MTTR (nearest rank).")
    mttr_p90_minutes: int | None = Field(description="90th percentile MTTR (nearest rank).")


class PreviousWindowOut(DashboardKpis):
    start: UTCTimestamp
    end: UTCTimestamp


class DashboardChangeOut(OutputModel):
    """This window minus the previous one; null where either has no value."""

    outages_detected: int | None
    outages_evaluated: int | None
    compliance_rate: float | None = Field(description="In percentage points.")
    average_mttr_minutes: float | None
    total_penalties: UsdcOut | None
    total_rewards: UsdcOut | None
    net_amount: UsdcOut | None


class DashboardOut(DashboardKpis):
    period: PeriodOut
    filters: DashboardFiltersOut
    previous: PreviousWindowOut = Field(
        description="The same figures for the window of the same length just before."
    )
    change: DashboardChangeOut


class TrendPointOut(_DashboardFigures):
    date: BucketDate


class TrendsOut(OutputModel):
    period: PeriodOut
    granularity: Literal["day", "week"]
    filters: DashboardFiltersOut
    series: list[TrendPointOut] = Field(description="Every bucket of the range, oldest first.")
