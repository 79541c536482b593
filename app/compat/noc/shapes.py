"""The frontend's names and shapes for /api/v1's answers, and back. Pure functions."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit

import orjson

# The frontend's event names, and ours.
EVENT_ALIASES = {"payment.processed": "payment.completed", "sla.breached": "sla.violated"}
EVENT_NAMES = {ours: theirs for theirs, ours in EVENT_ALIASES.items()}
DELIVERY_STATUS = {"succeeded": "success", "failed": "failed", "pending": "pending"}
ROLE_NAMES = {"owner": "admin"}  # the frontend gates its admin pages on role == "admin"


def event_roles_renamed(message: bytes) -> bytes:
    """A server-sent event whose `data` names roles (`role`, `previous`), renamed."""
    head, separator, rest = message.partition(b"data: ")
    if not separator:
        return message
    line, newline, tail = rest.partition(b"\n")
    try:
        data = orjson.loads(line)
    except orjson.JSONDecodeError:
        return message
    if not isinstance(data, dict):
        return message
    for key in ("role", "previous"):
        if key in data:
            data[key] = ROLE_NAMES.get(data[key], data[key])
    return head + separator + orjson.dumps(data) + newline + tail


def offset_of(page: int, page_size: int) -> int:
    return (page - 1) * page_size


def page_of(listed: dict[str, Any], page: int, page_size: int, item: Any = None) -> dict[str, Any]:
    """`{total, limit, offset, results}` as `{items, total, page, page_size}`."""
    results = listed["results"]
    return {
        "items": [item(r) for r in results] if item else results,
        "total": listed["total"],
        "page": page,
        "page_size": page_size,
    }


def day_start(day: date | None) -> datetime | None:
    return datetime.combine(day, time.min, tzinfo=UTC) if day else None


def day_end(day: date | None) -> datetime | None:
    """The last moment of the day: `date_to` names a day the range includes."""
    if day is None:
        return None
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC) - timedelta(
        microseconds=1
    )


def next_day(day: date | None) -> datetime | None:
    """The end of a half-open range that includes `day` (the dashboard's ranges)."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC) if day else None


def signed(status: dict[str, Any] | None) -> float | None:
    """One signed amount: negative for a penalty, positive for a reward."""
    if not status or status.get("payment_type") is None:
        return None
    if status["payment_type"] == "penalty":
        return -float(status.get("penalty_amount") or 0)
    return float(status.get("reward_amount") or 0)


def outage(body: dict[str, Any]) -> dict[str, Any]:
    """An outage with `affected_services`, `status` open|resolved and a short signed
    `sla_status{status, rating, amount}` (the full one stays under `sla`)."""
    status = body.get("sla_status")
    return {
        **body,
        "status": "resolved" if body["status"] == "resolved" else "open",
        "affected_services": body.get("services_affected", []),
        "sla": status,
        "sla_status": None
        if status is None
        else {
            "status": status.get("status"),
            "rating": status.get("performance_rating"),
            "amount": signed(status),
        },
    }


def resolved(detail: dict[str, Any]) -> dict[str, Any]:
    """The resolved outage's detail as `{outage, sla, payment}`."""
    return {
        "outage": outage(detail),
        "sla": detail.get("sla_result"),
        "payment": detail.get("payment"),
    }


def dispute(body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "resolution_note": body.get("notes")}


def webhook(body: dict[str, Any]) -> dict[str, Any]:
    return {
        **body,
        "active": body["status"] == "active",
        "events": [EVENT_NAMES.get(e, e) for e in body["events"]],
    }


def delivery(body: dict[str, Any]) -> dict[str, Any]:
    return {
        **body,
        "event": EVENT_NAMES.get(body["event_type"], body["event_type"]),
        "status": DELIVERY_STATUS.get(body["status"], body["status"]),
        "response_code": body.get("last_status_code"),
    }


def our_events(events: list[str]) -> list[str]:
    return [EVENT_ALIASES.get(e, e) for e in events]


def name_from(url: str) -> str:
    """A webhook's name, when the frontend sends none: its host."""
    return (urlsplit(url).hostname or url)[:255] or "webhook"


def dashboard(figures: dict[str, Any]) -> dict[str, Any]:
    return {
        "total_outages": figures["outages_detected"],
        "total_violations": figures["sla_violated"],
        "total_rewards": figures["total_rewards"],
        "total_penalties": figures["total_penalties"],
        "net_payout": figures["net_amount"],
        "compliance_rate": figures["compliance_rate"],
    }


def trend(point: dict[str, Any]) -> dict[str, Any]:
    return {
        "date": point["date"],
        "total_outages": point["outages_evaluated"],
        "violations": point["sla_violated"],
        "rewards": point["total_rewards"],
        "penalties": point["total_penalties"],
    }


def first_row(source: str) -> int:
    """The file row of record 0: a CSV's header is row 1 (blank lines are not counted); a JSON
    list counts from 1."""
    return 2 if source == "csv_file" else 1


def import_result(result: dict[str, Any], source: str) -> dict[str, Any]:
    """`{imported, skipped, errors[{row, field, message}]}`."""
    return {
        "imported": result["imported"],
        "skipped": result["skipped"],
        "errors": [import_error(e, first_row(source)) for e in result["errors"]],
        "import_id": result["import_id"],
    }


def import_error(error: dict[str, Any], first: int) -> dict[str, Any]:
    index = error.get("index")
    return {
        "row": index + first if index is not None else None,
        "field": ".".join(str(part) for part in error.get("loc", [])) or None,
        "message": error.get("msg", ""),
    }


def import_history(entry: dict[str, Any]) -> dict[str, Any]:
    first = first_row(entry["source"])
    return {
        "id": entry["id"],
        "filename": entry["filename"],
        "imported": entry["imported"],
        "skipped": entry["skipped"],
        "error_count": entry["error_count"],
        "errors": [import_error(e, first) for e in entry["errors"]],
        "created_at": entry["created_at"],
    }


# The frontend's import template: service_id, start_time, end_time.
IMPORT_COLUMNS = {"start_time": "detected_at", "end_time": "resolved_at"}
DEFAULT_SEVERITY = "medium"


def import_record(record: dict[str, Any]) -> dict[str, Any]:
    """A row of the frontend's template as an import record: `service_id` names the site,
    `start_time`/`end_time` are the detection and resolution, severity `medium` unless the
    row says."""
    mapped = {IMPORT_COLUMNS.get(k, k): v for k, v in record.items()}
    service_id = mapped.pop("service_id", None)
    if service_id is not None:
        mapped.setdefault("site_id", service_id)
        mapped.setdefault("site_name", service_id)
    mapped.setdefault("severity", DEFAULT_SEVERITY)
    return mapped
