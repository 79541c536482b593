"""Reading an import file into records, with bounded work whatever the file holds.

Runs in a worker thread (the router hands it the spooled upload): a CSV file is read a line
at a time and reading stops at the first record over the import limit, so a file of millions
of rows costs the same as one of 1 001; a JSON file's shape is counted before it is parsed
(app/core/json_shape.py). Each refusal is a 422 saying what in the file was over which bound.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from typing import IO, Any

import orjson

from app.core.errors import ValidationFailed
from app.core.json_shape import SLICE, ShapeCounter, ShapeExceeded, ShapeLimits

LIST_SEPARATORS = (";", "|")
NUMBER_COLUMNS = ("latitude", "longitude", "affected_subscribers")
MAX_LINE_CHARS = 65_536
MAX_BLANK_LINES = 1_000
MAX_COLUMNS = 64  # an imported outage has 16 column names; more is not an outage file
EXTRA_CELLS_KEPT = 10  # cells past the header, kept only to be reported
EXTRA_CELLS = "_unexpected_columns"


class UnreadableFile(ValueError):
    """The file is not CSV or JSON this import can read; the message says why."""


def read_records(
    file: IO[bytes], filename: str, max_count: int, shape: ShapeLimits
) -> tuple[list[Any], str]:
    """The file's records, as JSON objects (a CSV row becomes one), at most max_count, and
    what the file was (`json_file` or `csv_file`)."""
    start = file.read(SLICE)
    if filename.lower().endswith(".json") or start.lstrip(codecs.BOM_UTF8 + b" \t\r\n")[:1] in (
        b"[",
        b"{",
    ):
        return _json_records(start, file, shape), "json_file"
    file.seek(0)
    return _csv_records(file, max_count), "csv_file"


def _json_records(start: bytes, file: IO[bytes], shape: ShapeLimits) -> list[Any]:
    counter = ShapeCounter(shape)
    chunks = [start]
    try:
        counter.feed(start)
        while chunk := file.read(SLICE):
            counter.feed(chunk)
            chunks.append(chunk)
    except ShapeExceeded as exc:
        raise UnreadableFile(str(exc)) from None
    try:
        parsed = orjson.loads(b"".join(chunks).removeprefix(codecs.BOM_UTF8))
    except orjson.JSONDecodeError as exc:
        raise UnreadableFile(f"not valid JSON ({exc})") from None
    records = parsed.get("outages") if isinstance(parsed, dict) else parsed
    if not isinstance(records, list):
        raise UnreadableFile('a JSON file holds a list of outages or {"outages": [...]}')
    return records


def _csv_records(file: IO[bytes], max_count: int) -> list[dict[str, Any]]:
    text = io.TextIOWrapper(file, encoding="utf-8-sig", errors="strict", newline="")
    reader = csv.DictReader(_bounded_lines(text), restkey=EXTRA_CELLS)
    records: list[dict[str, Any]] = []
    try:
        if len(reader.fieldnames or ()) > MAX_COLUMNS:
            raise UnreadableFile(f"the header names more than {MAX_COLUMNS} columns")
        for row in reader:
            if len(records) == max_count:
                raise too_many(max_count, more=True)
            records.append(_csv_record(row))
    except csv.Error as exc:  # a malformed file, or a field over the csv module's limit
        raise UnreadableFile(f"not a readable CSV file ({exc})") from None
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    finally:
        text.detach()  # the upload's file stays open for its owner to close
    return records


def _bounded_lines(text: io.TextIOWrapper) -> Iterator[str]:
    """The file's lines, refusing one longer than MAX_LINE_CHARS (read no further than that)
    and more than MAX_BLANK_LINES blank ones (the csv module skips those without counting)."""
    blank = 0
    number = 0
    while line := text.readline(MAX_LINE_CHARS + 1):
        number += 1
        if len(line) > MAX_LINE_CHARS:
            raise UnreadableFile(f"line {number} is longer than {MAX_LINE_CHARS} characters")
        if not line.strip():
            blank += 1
            if blank > MAX_BLANK_LINES:
                raise UnreadableFile(f"more than {MAX_BLANK_LINES} blank lines")
        yield line


def too_many(max_count: int, *, more: bool = False, got: int | None = None) -> ValidationFailed:
    said = f"the file has more than {max_count}" if more else f"got {got}"
    return ValidationFailed(
        f"At most {max_count} outages per import; {said}.",
        details={
            "errors": [
                {
                    "index": None,
                    "loc": ["outages"],
                    "msg": f"at most {max_count} records",
                    "type": "too_long",
                }
            ]
        },
    )


def _csv_record(row: dict[str, Any]) -> dict[str, Any]:
    """CSV columns are the JSON field names; `services_affected` is `;`- or `|`-separated;
    `latitude`/`longitude` columns make the location; empty cells are absent."""
    record: dict[str, Any] = {k: v for k, v in row.items() if v not in ("", None)}
    if EXTRA_CELLS in record:
        record[EXTRA_CELLS] = record[EXTRA_CELLS][:EXTRA_CELLS_KEPT]
    for name in ("services_affected", "affected_services"):
        if name in record:
            text = str(record.pop(name))
            separator = next((s for s in LIST_SEPARATORS if s in text), ";")
            record["services_affected"] = [p.strip() for p in text.split(separator) if p.strip()]
    for name in NUMBER_COLUMNS:
        if name in record:
            record[name] = _number(record[name])
    if "latitude" in record or "longitude" in record:
        record["location"] = {
            "latitude": record.pop("latitude", None),
            "longitude": record.pop("longitude", None),
        }
    return record


def _number(cell: Any) -> Any:
    """A CSV cell is text; JSON bodies take numbers. A cell that is not a number stays text,
    for validation to report."""
    text = str(cell).strip()
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return cell
