"""Listing and searching outages: the busiest read of the API, in one query.

The page's columns, each row's current SLA threshold and latest result (outer joins) and the
capped total (a scalar subquery) come back together, as plain rows serialized straight to
JSON; no ORM object is built. The statement for each combination of filters is built once,
with bound parameters, and reused.

The organization filter is explicit here (the statement runs on the session's connection, below
the ORM's tenant hook); on PostgreSQL row-level security holds it too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from typing import Any

import orjson
from fastapi.responses import Response
from sqlalchemy import (
    DateTime,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    func,
    literal_column,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.contracts.engine import clock
from app.contracts.models import SlaPolicy
from app.core.clock import utcnow
from app.core.db import UTCDateTime, dialect_of
from app.core.pagination import PageParams, decode_cursor, encode_cursor
from app.core.schemas import usdc_number
from app.outages.models import Outage
from app.outages.schemas import SLA_STATUS_KEYS, OutageOut
from app.outages.service import STATUS_ALIASES
from app.sla.exclusions import ClockOf, excluded_seconds
from app.sla.models import SlaResult

MAX_WORDS = 20
_COLUMNS = tuple(name for name in OutageOut.model_fields if name not in ("location", "sla_status"))
_RESULT_COLUMNS: tuple[str, ...] = (
    *("id", "status", "severity", "threshold_minutes", "mttr_minutes", "amount"),
    *("payment_type", "rating", "policy_version", "mttr_source"),
    *("contract_status", "contract_tx_hash"),
)
_PAGE_COLUMNS = (*_COLUMNS, "latitude", "longitude", "threshold")
_PAGE_COLUMNS += tuple(f"sla_{name}" for name in _RESULT_COLUMNS)
_AT = {name: index for index, name in enumerate(_PAGE_COLUMNS)}
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
PROBE, DENSE = 2000, 100


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


_MATCHES_COUNTED = _matches_counted()
# A page is the organization's newest outages (matching the filters): walking an index newest
# first finds it after a page of rows. The planner may not see it when statistics are missing
# (a table never analyzed: autovacuum off, or right after a bulk load): it takes the
# organization for a handful of rows, reads them all through another index and sorts, and
# the generic plan keeps doing so as the table grows (a list fell from 570 to 124 requests/s
# after 9 000 creates). For the listing's transaction only, it is left no other way; a common
# search word also gets no bitmap scan (it would collect every match before the first page).
_WALK_NEWEST_FIRST = "SET LOCAL enable_sort = off"
_WALK_NEWEST_FIRST_COMMON = "SET LOCAL enable_sort = off; SET LOCAL enable_bitmapscan = off"


async def _walk_newest_first(connection: Any, *, common_word: bool) -> None:
    # On the driver's connection (simple protocol, no statement cache): a fraction of what a
    # statement through SQLAlchemy costs, and both settings in one round trip.
    raw = await connection.get_raw_connection()
    await raw.driver_connection.execute(
        _WALK_NEWEST_FIRST_COMMON if common_word else _WALK_NEWEST_FIRST
    )


@lru_cache(maxsize=256)
def _statements(
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
            *(_plain(getattr(Outage, name), shape[-1]) for name in (*_COLUMNS, "organization_id"))
        )
        .add_columns(Outage.latitude, Outage.longitude)
        .where(*criteria)
        .order_by(Outage.id.desc())
        .offset(bindparam("offset", type_=Integer))
        .limit(bindparam("limit", type_=Integer))
        .subquery("page")
    )
    page = (
        select(
            *(window.c[name] for name in _COLUMNS),
            window.c.latitude,
            window.c.longitude,
            SlaPolicy.threshold_minutes.label("threshold"),
            *(getattr(SlaResult, name).label(f"sla_{name}") for name in _RESULT_COLUMNS),
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


_ID, _SEVERITY = _AT["id"], _AT["severity"]
_SLA_SITES = _AT["sla_sites"]
_DETECTED, _RESOLVED = _AT["detected_at"], _AT["resolved_at"]
_LATITUDE, _LONGITUDE, _THRESHOLD = _AT["latitude"], _AT["longitude"], _AT["threshold"]
_RESULT = tuple(_AT[f"sla_{name}"] for name in _RESULT_COLUMNS)


_ABSENT = dict.fromkeys(SLA_STATUS_KEYS)  # every key present, null where it does not apply


def _status(row: Sequence[Any], now: datetime, excluded: float) -> dict[str, Any]:
    """The row's SLA state in the `SlaStatusOut` shape (the hot path: plain indexing)."""
    result_id, status, severity, threshold, mttr, amount, payment_type, rating, version, source = (
        row[index] for index in _RESULT[:10]
    )
    if result_id is not None:
        money = usdc_number(amount)
        contract_status, contract_tx_hash = row[_RESULT[10]], row[_RESULT[11]]
        return _ABSENT | {
            "status": status,
            "severity": severity,
            "threshold_minutes": threshold,
            "mttr_minutes": mttr,
            "penalty_amount": money if payment_type == "penalty" else 0.0,
            "reward_amount": money if payment_type == "reward" else 0.0,
            "performance_rating": rating,
            "payment_type": payment_type,
            "policy_version": version,
            "sla_result_id": result_id,
            "mttr_source": source,
            "smart_contract_invoked": contract_status is not None,
            "contract_tx_hash": contract_tx_hash,
        }
    limit = row[_THRESHOLD] or 0
    state = clock(row[_DETECTED], row[_RESOLVED] or now, limit, excluded)
    return _ABSENT | {
        "status": state.status.value,
        "severity": row[_SEVERITY],
        "threshold_minutes": limit,
        "elapsed_minutes": state.elapsed_minutes,
        "at_risk": state.at_risk,
        "time_remaining_minutes": state.time_remaining_minutes,
    }


def _fields(row: Sequence[Any], now: datetime, excluded: float) -> dict[str, Any]:
    fields = dict(zip(_COLUMNS, row, strict=False))  # the columns come first, in this order
    latitude, longitude = row[_LATITUDE], row[_LONGITUDE]
    fields["location"] = (
        {"latitude": latitude, "longitude": longitude}
        if latitude is not None and longitude is not None
        else None
    )
    fields["sla_status"] = _status(row, now, excluded)
    return fields


async def _live_exclusions(
    session: AsyncSession, organization_id: str, rows: Sequence[Sequence[Any]], now: datetime
) -> dict[str, float]:
    """The excluded time of the page's open outages (their live clocks): one read of their
    pauses and one of the organization's windows, and none when every row is resolved."""
    clocks = [
        ClockOf(
            id=row[_ID],
            organization_id=organization_id,
            sites=tuple(row[_SLA_SITES]),
            detected_at=row[_DETECTED],
            end=now,
        )
        for row in rows
        if row[_RESULT[0]] is None and row[_RESOLVED] is None
    ]
    return await excluded_seconds(session, clocks, now=now) if clocks else {}


def _position(params: PageParams, has_next: bool) -> dict[str, Any]:
    """Where the page is: by offset with its total, or after a cursor (no total, as every
    cursor page of the API: counting would cost what the cursor saves)."""
    offset, limit = params.offset, params.limit
    if params.cursor is not None:
        return {
            "total": None,
            "total_exact": False,
            "limit": limit,
            "offset": None,
            "has_next": has_next,
            "has_previous": True,
            "next_offset": None,
            "previous_offset": None,
        }
    return {
        "limit": limit,
        "offset": offset,
        "has_next": has_next,
        "has_previous": offset > 0,
        "next_offset": offset + limit if has_next else None,
        "previous_offset": max(0, offset - limit) if offset > 0 else None,
    }


async def page(
    session: AsyncSession,
    organization_id: str,
    filters: OutageFilters,
    params: PageParams,
    *,
    total_cap: int,
) -> Response:
    """The page (newest first) as JSON in the `Page[OutageOut]` shape."""
    dialect = dialect_of(session)
    if params.cursor is not None:
        filters = replace(filters, before_id=decode_cursor(params.cursor))
    values = {**filters.params(dialect), "org": organization_id}
    connection = await session.connection()
    few = False
    if dialect == "postgresql" and filters.words:
        values.update(cap=total_cap + 1, dense=DENSE)
        few = (await connection.execute(_MATCHES_COUNTED, values)).scalar_one() <= total_cap
    if dialect == "postgresql" and not few:
        await _walk_newest_first(connection, common_word=bool(filters.words))
    statement, total_alone = _statements(filters.shape(dialect), total_cap, few=few)
    offset = 0 if params.cursor is not None else params.offset
    window = {"offset": offset, "limit": params.limit + 1}
    rows = (await connection.execute(statement, {**values, **window})).all()
    now = utcnow()
    limit = params.limit
    has_next = len(rows) > limit
    excluded = await _live_exclusions(session, organization_id, rows[:limit], now)
    total: dict[str, Any] = {}
    if params.cursor is None:
        counted = rows[0][-1] if rows else (await connection.execute(total_alone, values)).scalar()
        total = {"total": min(counted or 0, total_cap), "total_exact": (counted or 0) <= total_cap}
    body = {
        **total,
        **_position(params, has_next),
        "next_cursor": encode_cursor(rows[limit - 1][_ID]) if has_next else None,
        "results": [_fields(row, now, excluded.get(row[_ID], 0.0)) for row in rows[:limit]],
    }
    return Response(orjson.dumps(body, option=orjson.OPT_UTC_Z), media_type="application/json")
