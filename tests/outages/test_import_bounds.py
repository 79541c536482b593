"""An import file costs what its first 1 001 records cost, whatever it holds (issue 24.4:
a 10 MB CSV of 5.2 million rows froze the server for 15-25 s and took 2.5 GB)."""

import io
import json

from app.core.json_shape import ShapeLimits
from app.lifecycle import upload
from tests.helpers import Api, Session, assert_error

LIMITS = ShapeLimits(values=150_000, keys=20_000, containers=10_000, depth=32)
ROWS_10_MB = b"site_name,severity\n" + b"Site,low\n" * 1_200_000


class CountingFile(io.BytesIO):
    """A file that remembers how much of it was read."""

    def __init__(self, content: bytes) -> None:
        super().__init__(content)
        self.read_bytes = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.read_bytes += len(data)
        return data

    def read1(self, size: int = -1) -> bytes:
        data = super().read1(size)
        self.read_bytes += len(data)
        return data

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def,override]
        count = super().readinto(buffer)
        self.read_bytes += count
        return count


async def _count(api: Api, session: Session) -> int:
    return int((await api.get("/outages", session)).json()["total"])


def _csv(content: bytes) -> dict[str, tuple[str, bytes, str]]:
    return {"file": ("outages.csv", content, "text/csv")}


async def test_a_10_mb_csv_of_a_million_rows_is_refused_and_nothing_imported(
    api: Api, engineer: Session
) -> None:
    assert len(ROWS_10_MB) > 10_000_000
    response = await api.post("/outages/import", engineer, files=_csv(ROWS_10_MB[:10_485_760]))
    error = assert_error(response, 422, "VALIDATION_ERROR")
    assert error["message"] == "At most 1000 outages per import; the file has more than 1000."
    assert await _count(api, engineer) == 0


def test_reading_stops_at_the_record_past_the_limit() -> None:
    file = CountingFile(ROWS_10_MB)
    try:
        upload.read_records(file, "outages.csv", 1000, LIMITS)
    except Exception as exc:
        assert "more than 1000" in str(exc)
    else:
        raise AssertionError("a file of a million records was read")
    # The reader's buffers hold a few slices ahead; the file is 10 MB.
    assert file.read_bytes < 300_000, file.read_bytes


def test_a_file_of_exactly_the_limit_is_read_whole() -> None:
    content = b"site_name,severity\n" + b"Site,low\n" * 1000
    records, kind = upload.read_records(io.BytesIO(content), "outages.csv", 1000, LIMITS)
    assert (
        kind == "csv_file"
        and len(records) == 1000
        and records[-1] == {"site_name": "Site", "severity": "low"}
    )


async def test_blank_lines_long_lines_and_wide_headers_are_refused(
    api: Api, engineer: Session
) -> None:
    cases = {
        b"site_name,severity\n" + b"\n" * 5_000_000: "more than 1000 blank lines",
        b"site_name,severity\n" + b"A," + b"x" * 70_000 + b"\n": "line 2 is longer than 65536",
        b"site_name,severity" + b",c" * 5000 + b"\n": "more than 64 columns",
        b"site_name,severity\n" + b"," * 3_000_000 + b"\n": "line 2 is longer than 65536",
    }
    for content, said in cases.items():
        response = await api.post("/outages/import", engineer, files=_csv(content))
        error = assert_error(response, 422, "VALIDATION_ERROR")
        assert said in error["message"], error["message"]
    assert await _count(api, engineer) == 0


async def test_cells_past_the_header_are_reported_by_record(api: Api, engineer: Session) -> None:
    content = b"site_name,severity\nA,low\nB,low," + b"extra," * 1000 + b"\n"
    response = await api.post("/outages/import", engineer, files=_csv(content))
    error = assert_error(response, 422, "VALIDATION_ERROR")
    assert {e["index"] for e in error["details"]["errors"]} == {1}
    assert len(response.content) < 5_000  # not the thousand cells echoed back


async def test_a_json_file_of_tiny_values_is_refused_before_it_is_parsed(
    api: Api, engineer: Session
) -> None:
    content = b"[" + b"0," * 4_000_000 + b"0]"
    response = await api.post(
        "/outages/import", engineer, files={"file": ("x.json", content, "application/json")}
    )
    error = assert_error(response, 422, "VALIDATION_ERROR")
    assert "more than 150000 values" in error["message"]


async def test_the_largest_valid_json_import_is_accepted(api: Api, engineer: Session) -> None:
    """The shape limits admit the largest body the import takes: 1 000 outages, each with
    every field and 100 services."""
    records = [
        {
            "site_name": f"Site {i}",
            "site_id": f"S{i}",
            "severity": "low",
            "description": "d",
            "services_affected": [f"svc-{n}" for n in range(100)],
            "affected_subscribers": 10,
            "location": {"latitude": 1.5, "longitude": 2.5},
            "region": "north",
            "detected_at": "2026-01-01T00:00:00Z",
        }
        for i in range(1000)
    ]
    body = json.dumps({"outages": records})
    response = await api.post(
        "/outages/import",
        engineer,
        content=body,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text[:300]
    assert await _count(api, engineer) == 1000
