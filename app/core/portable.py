"""Portable SQL pieces: time buckets, per-service unnesting, float casts.

PostgreSQL and SQLite differ in date functions and JSON unnesting; the difference lives here,
and the features' queries are plain SQL aggregates over these pieces.
"""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import ColumnElement, Float, cast, func, literal_column

Granularity = Literal["day", "week", "month"]


def bucket(column: Any, granularity: Granularity, dialect: str) -> ColumnElement[str]:
    """The start of the day / ISO week (Monday) / month of `column`, as `YYYY-MM-DD`, UTC."""
    if dialect == "postgresql":
        utc = func.timezone("UTC", column)
        return func.to_char(func.date_trunc(granularity, utc), "YYYY-MM-DD")
    if granularity == "day":
        return func.strftime("%Y-%m-%d", column)
    if granularity == "week":
        # SQLite: step back to the Monday on or before the date.
        return func.date(column, literal_column("'-6 days'"), literal_column("'weekday 1'"))
    return func.strftime("%Y-%m-01", column)


def services_of(column: Any, dialect: str) -> Any:
    """A table-valued function with one row (`value`) per element of a JSON list column."""
    if dialect == "postgresql":
        return (
            func.jsonb_array_elements_text(column)
            .table_valued("value")
            .render_derived(name="service")
        )
    # SQLite: json_each has its own `value` column and takes no column-alias list.
    return func.json_each(column).table_valued("value").alias("service")


def as_float(expr: Any) -> ColumnElement[float]:
    return cast(expr, Float)
