"""One place that says what time it is, always timezone-aware UTC."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def isoformat(moment: datetime) -> str:
    """ISO 8601 with an explicit `Z`, as every response and payload carries it."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
