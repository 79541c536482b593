"""The hot SQL of a page of outages: one cached statement per shape of filters.

The page's columns, each row's current SLA threshold and latest result (outer joins) and the
capped total (a scalar subquery) come back together, as plain rows; the rows are chosen first
(an index walk newest first) and only they are joined. On PostgreSQL the listing's transaction
may switch planner settings off (`walk_newest_first`), and a search is a GIN lookup; SQLite
searches with LIKE. The organization filter is explicit here (the statement runs on the
session's connection, below the ORM's tenant hook); on PostgreSQL row-level security holds it
too. Rendering the rows is `app/lifecycle/listing.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    DateTime,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    func,
    literal_column,
    null,
    or_,
    select,
    type_coerce,
)

from app.contracts.models import SlaPolicy
from app.core import driver
from app.core.db import UTCDateTime
from app.lifecycle.schemas import OutageOut
from app.maintenance.models import MaintenanceWindow
from app.outages.models import Outage
from app.outages.service import STATUS_ALIASES
from app.pauses.models import ClockPause
from app.sla import status as sla_status
from app.sla.exclusions import COUNTING
from app.sla.models import SlaResult

MAX_WORDS = 20
COLUMNS = tuple(name for name in OutageOut.model_fields if name not in ("location", "sla_status"))
RESULT_COLUMNS = sla_status.RESULT_COLUMNS
PAGE_COLUMNS = (*COLUMNS, "latitude", "longitude", "threshold")
PAGE_COLUMNS += tuple(f"sla_{name}" for name in RESULT_COLUMNS)
PAGE_COLUMNS += ("live_pauses", "live_windows")
AT = {name: index for index, name in enumerate(PAGE_COLUMNS)}
_SIMPLE = {
    "status": Outage.status,
    "severity": Outage.severity,
    "site_name": Outage.site_name,
}


@dataclass(frozen=True, slots=True)
class OutageFilters:
    status: str | None = None
    severity: str | None = None
    site_name: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    q: str | None = None
    before_id: str | None = None  # a cursor: the last id of the previous page

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(w for w in (self.q or "").split() if w)[:MAX_WORDS]

    def shape(self, dialect: str) -> tuple[Any, ...]:
        """Which filters are set: one statement per shape."""
        searched = (len(self.words) if dialect != "postgresql" else 1) if self.words else 0
        present = (self.status, self.severity, self.site_name, self.start, self.end, self.before_id)
        return (*(value is not None for value in present), searched, dialect)

    def params(self, dialect: str) -> dict[str, Any]:
        values: dict[str, Any] = {
            "status": STATUS_ALIASES.get(self.status or "", self.status),
            "severity": self.severity,
            "site_name": self.site_name,
            "start": self.start,
            "end": self.end,
            "before_id": self.before_id,
        }
        if dialect == "postgresql":
            values["q"] = " ".join(self.words)
        for index, word in enumerate(self.words):
            escaped = word.lower().replace("%", r"\%").replace("_", r"\_")
            values[f"w{index}"] = f"%{escaped}%"
        return {name: value for name, value in values.items() if value is not None}


def _criteria(shape: tuple[Any, ...], *, search: bool = True) -> list[Any]:
    has_status, has_severity, has_site, has_start, has_end, has_before, searched, dialect = shape
    criteria: list[Any] = [Outage.organization_id == bindparam("org")]
    for present, name in zip(
        (has_status, has_severity, has_site), ("status", "severity", "site_name"), strict=True
    ):
        if present:
            criteria.append(_SIMPLE[name] == bindparam(name))
    if has_start:
        criteria.append(Outage.created_at >= bindparam("start"))
    if has_end:
        criteria.append(Outage.created_at <= bindparam("end"))
    if has_before:
        criteria.append(Outage.id < bindparam("before_id"))
    if searched and search and dialect == "postgresql":
        query = func.plainto_tsquery(literal_column("'simple'"), bindparam("q"))
        criteria.append(Outage.search_vector.op("@@")(query))
    elif searched and search:
        text = func.lower(func.coalesce(Outage.description, ""))
        for index in range(searched):
            pattern: Any = bindparam(f"w{index}")
            criteria.append(
                or_(
                    func.lower(Outage.site_name).like(pattern, escape="\\"),
                    text.like(pattern, escape="\\"),
                )
            )
    return criteria


def _plain(column: Any, dialect: str) -> Any:
    """On PostgreSQL the driver returns aware datetimes already: the column is read without
    the UTC type's per-value processing (SQLite keeps it: it stores no offset)."""
    if dialect == "postgresql" and isinstance(column.type, UTCDateTime):
        return type_coerce(column, DateTime(timezone=True)).label(column.key)
    return column


def _matches() -> Any:
    """The ids of the tenant's outages matching `q` (at most `cap`, in no order).

    A SECURITY DEFINER function (migration 0011): under row-level security `@@` (not
    leakproof) could not use the GIN index, and a rare word read the whole organization.
    """
    function = func.apexchainx_outage_matches(bindparam("q"), bindparam("cap", type_=Integer))
    return function.table_valued("id")


# A word found in at least DENSE of the organization's PROBE newest outages is common: walking
# newest first finds its page at once, and asking the index for all its matches would build a
# bitmap of every one (30 ms for a word in a quarter of a million outages).
# (DENSE is a bound parameter: app/lifecycle/listing.py passes it.)
PROBE = 2000


def _matches_counted() -> Select[Any]:
    """`cap` if the word is common, else how many outages match, up to `cap`."""
    query = func.plainto_tsquery(literal_column("'simple'"), bindparam("q"))
    newest = (
        select(Outage.search_vector)
        .where(Outage.organization_id == bindparam("org"))
        .order_by(Outage.id.desc())
        .limit(PROBE)
        .subquery()
    )
    dense = select(func.count()).select_from(newest).where(newest.c.search_vector.op("@@")(query))
    counted = select(func.count()).select_from(_matches())
    # CASE runs the second subquery only when the first says the word is rare.
    common = dense.scalar_subquery() >= bindparam("dense", type_=Integer)
    return select(case((common, bindparam("cap", type_=Integer)), else_=counted.scalar_subquery()))


MATCHES_COUNTED = _matches_counted()
# A page is the organization's newest outages (matching the filters): walking an index newest
# first finds it after a page of rows. The planner may not see it when statistics are missing
# (a table never analyzed: autovacuum off, or right after a bulk load): it takes the
# organization for a handful of rows, reads them all through another index and sorts, and
# the generic plan keeps doing so as the table grows (a list fell from 570 to 124 requests/s
# after 9 000 creates). For the listing's transaction only, it is left no other way; a common
# search word also gets no bitmap scan (it would collect every match before the first page).
_WALK_NEWEST_FIRST = "SET LOCAL enable_sort = off"
_WALK_NEWEST_FIRST_COMMON = "SET LOCAL enable_sort = off; SET LOCAL enable_bitmapscan = off"


WALK_NEWEST_FIRST = ("enable_sort",)  # what the list routes declare (app/core/planner.py)


async def walk_newest_first(
    connection: Any, *, common_word: bool, switched_off: frozenset[str]
) -> None:
    """Sets what the transaction does not run without yet: usually nothing, the request's
    first statement switched sorts off as the route declared."""
    if "enable_sort" in switched_off and not common_word:
        return
    # On the driver's connection (simple protocol, no statement cache): a fraction of what a
    # statement through SQLAlchemy costs, and both settings in one round trip.
    await driver.run(connection, _WALK_NEWEST_FIRST_COMMON if common_word else _WALK_NEWEST_FIRST)


def _exclusion_columns(window: Any, dialect: str) -> tuple[Any, Any]:
    """On PostgreSQL, what the page's live clocks do not count, read with the page instead of
    after it: each open outage's counting pauses, and the organization's windows that reach
    past the oldest open outage's detection, as JSON arrays (NULL when there are none, as for
    a page with no open outage). `app/sla/exclusions.live_spans` turns them into spans."""
    if dialect != "postgresql":
        return null(), null()
    open_rows = window.c.resolved_at.is_(None)
    pauses = (
        select(
            func.json_agg(
                func.json_build_array(
                    ClockPause.id, ClockPause.outage_id, ClockPause.started_at, ClockPause.ended_at
                )
            )
        )
        .where(
            ClockPause.organization_id == bindparam("org"),
            ClockPause.outage_id == window.c.id,
            ClockPause.status.in_([literal_column(f"'{status}'") for status in COUNTING]),
        )
        .scalar_subquery()
    )
    oldest_open = select(func.min(window.c.detected_at)).where(open_rows).scalar_subquery()
    windows = (
        select(
            func.json_agg(
                func.json_build_array(
                    MaintenanceWindow.id,
                    MaintenanceWindow.starts_at,
                    MaintenanceWindow.ends_at,
                    MaintenanceWindow.created_at,
                    MaintenanceWindow.sites,
                )
            )
        )
        .where(
            MaintenanceWindow.organization_id == bindparam("org"),
            MaintenanceWindow.cancelled_at.is_(None),
            MaintenanceWindow.ends_at > oldest_open,
            MaintenanceWindow.starts_at < bindparam("now", type_=DateTime(timezone=True)),
        )
        .scalar_subquery()
    )
    return case((open_rows, pauses)), windows


@lru_cache(maxsize=256)
def statements(
    shape: tuple[Any, ...], total_cap: int, *, few: bool = False
) -> tuple[Select[Any], Select[Any]]:
    """(page, total alone) for one shape of filters. The page's rows are chosen first (an
    index walk newest first that stops at the window) and only they are joined, whatever the
    planner's estimates; the total counts ids, capped.

    `few`: a PostgreSQL search known to match at most `total_cap` outages starts from those
    (found through the GIN index) instead of walking the organization's ids.
    """
    criteria = _criteria(shape, search=not few)
    if few:
        criteria.append(Outage.id.in_(select(_matches().c.id)))
    matching = select(Outage.id).where(*criteria).limit(total_cap + 1).subquery()
    total = select(func.count()).select_from(matching).scalar_subquery()
    window = (
        select(
            *(_plain(getattr(Outage, name), shape[-1]) for name in (*COLUMNS, "organization_id"))
        )
        .add_columns(Outage.latitude, Outage.longitude)
        .where(*criteria)
        .order_by(Outage.id.desc())
        .offset(bindparam("offset", type_=Integer))
        .limit(bindparam("limit", type_=Integer))
        .cte("page")
    )
    pauses, windows = _exclusion_columns(window, shape[-1])
    page = (
        select(
            *(window.c[name] for name in COLUMNS),
            window.c.latitude,
            window.c.longitude,
            SlaPolicy.threshold_minutes.label("threshold"),
            *(getattr(SlaResult, name).label(f"sla_{name}") for name in RESULT_COLUMNS),
            pauses.label("live_pauses"),
            windows.label("live_windows"),
            total.label("total"),
        )
        .select_from(window)
        .outerjoin(
            SlaPolicy,
            and_(
                SlaPolicy.contract_id == window.c.contract_id,
                SlaPolicy.severity == window.c.severity,
                SlaPolicy.is_current.is_(True),
            ),
        )
        .outerjoin(
            SlaResult, and_(SlaResult.outage_id == window.c.id, SlaResult.is_latest.is_(True))
        )
        .order_by(window.c.id.desc())
    )
    return page, select(total)
