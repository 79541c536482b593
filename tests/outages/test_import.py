"""Bulk import: all or nothing, JSON body or CSV/JSON file, limits."""

import json
from typing import Any

from tests.helpers import Api, Session, assert_error


def _records(n: int) -> list[dict[str, Any]]:
    return [
        {
            "site_name": f"Site {i}",
            "severity": ("critical", "high", "medium", "low")[i % 4],
            "services_affected": ["4G"],
            "description": f"Outage number {i}",
        }
        for i in range(n)
    ]


async def _count(api: Api, session: Session) -> int:
    return int((await api.get("/outages", session)).json()["total"])


async def test_a_json_body_of_1000_is_imported(api: Api, engineer: Session) -> None:
    response = await api.post("/outages/import", engineer, json={"outages": _records(1000)})
    assert response.status_code == 201, response.text[:500]
    body = response.json()
    assert body["imported"] == 1000 and len(set(body["ids"])) == 1000
    assert await _count(api, engineer) == 1000
    one = (await api.get(f"/outages/{body['ids'][0]}", engineer)).json()
    assert [e["event"] for e in one["timeline"]] == ["created"]


async def test_1001_records_are_refused(api: Api, engineer: Session) -> None:
    response = await api.post("/outages/import", engineer, json={"outages": _records(1001)})
    error = assert_error(response, 422, "VALIDATION_ERROR")
    assert "1000" in error["message"]
    assert await _count(api, engineer) == 0


async def test_one_bad_record_among_999_good_writes_nothing(api: Api, engineer: Session) -> None:
    records = _records(1000)
    records[517]["severity"] = "apocalyptic"
    records[998]["description"] = "x" * 5001
    response = await api.post("/outages/import", engineer, json={"outages": records})
    error = assert_error(response, 422, "VALIDATION_ERROR")
    assert sorted({e["index"] for e in error["details"]["errors"]}) == [517, 998]
    assert await _count(api, engineer) == 0


async def test_a_csv_file_is_imported(api: Api, engineer: Session) -> None:
    csv_text = (
        "site_name,severity,services_affected,description,latitude,longitude,region\n"
        "Lagos Core,critical,4G;5G,Fiber cut,6.52,3.37,west\n"
        "Abuja Edge,low,,Power dip,,,north\n"
    )
    response = await api.post(
        "/outages/import", engineer, files={"file": ("outages.csv", csv_text.encode(), "text/csv")}
    )
    assert response.status_code == 201, response.text
    ids = response.json()["ids"]
    lagos = (await api.get(f"/outages/{ids[0]}", engineer)).json()
    assert lagos["services_affected"] == ["4G", "5G"]
    assert lagos["location"] == {"latitude": 6.52, "longitude": 3.37}
    assert lagos["region"] == "west"


async def test_a_json_file_is_imported(api: Api, engineer: Session) -> None:
    content = json.dumps(_records(3)).encode()
    response = await api.post(
        "/outages/import", engineer, files={"file": ("batch.json", content, "application/json")}
    )
    assert response.status_code == 201 and response.json()["imported"] == 3


async def test_a_bad_csv_row_is_reported_by_index(api: Api, engineer: Session) -> None:
    csv_text = "site_name,severity,colour\nA,high,red\nB,SEVERE,\n"
    response = await api.post(
        "/outages/import", engineer, files={"file": ("x.csv", csv_text.encode(), "text/csv")}
    )
    error = assert_error(response, 422, "VALIDATION_ERROR")
    assert {e["index"] for e in error["details"]["errors"]} == {0, 1}
    assert await _count(api, engineer) == 0


async def test_a_file_of_10_mb_plus_one_byte_is_413(api: Api, engineer: Session) -> None:
    content = b"x" * (10 * 1024 * 1024 + 1)
    response = await api.post(
        "/outages/import", engineer, files={"file": ("big.csv", content, "text/csv")}
    )
    error = assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert error["message"] == "File exceeds 10 MB limit"


async def test_unreadable_files_and_missing_fields_are_422(api: Api, engineer: Session) -> None:
    for files in (
        {"file": ("x.json", b"{not json", "application/json")},
        {"file": ("x.csv", b"\xff\xfe\x00garbage", "text/csv")},
        {"other": ("x.csv", b"site_name\nA\n", "text/csv")},
    ):
        response = await api.post("/outages/import", engineer, files=files)
        assert_error(response, 422, "VALIDATION_ERROR")
    response = await api.post("/outages/import", engineer, json={"outages": []})
    assert_error(response, 422, "VALIDATION_ERROR")
    response = await api.post("/outages/import", engineer, json={"outages": ["not an object"]})
    assert_error(response, 422, "VALIDATION_ERROR")
