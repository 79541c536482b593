"""Importing outages already over, partial imports, and the import history (issue 26 A.6)."""

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.helpers import Api, Session, assert_error
from tests.payments.conftest import open_wallets, register_wallets

NOW = datetime.now(UTC).replace(microsecond=0)  # one instant: a duration is exact minutes


def _ago(minutes: int) -> str:
    return (NOW - timedelta(minutes=minutes)).isoformat()


def _closed(site: str, lasted: int, severity: str = "critical") -> dict[str, Any]:
    return {
        "site_name": site,
        "severity": severity,
        "detected_at": _ago(600),
        "resolved_at": _ago(600 - lasted),
        "root_cause": "Fibre cut",
    }


async def test_a_closed_outage_is_recorded_resolved_and_never_paid(
    app: Any, api: Api, owner: Session, engineer: Session
) -> None:
    await register_wallets(api, owner, await open_wallets(app))
    records = [_closed("Past A", 45), {"site_name": "Still open", "severity": "low"}]
    response = await api.post("/outages/import", engineer, json={"outages": records})
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["imported"], body["closed"], body["skipped"], body["errors"]) == (2, 1, 0, [])
    await app.state.executor.drain()

    past = (await api.get(f"/outages/{body['ids'][0]}", owner)).json()
    assert past["status"] == "resolved" and past["root_cause"] == "Fibre cut"
    assert (past["mttr_minutes"], past["mttr_source"]) == (45, "imported")
    assert past["sla_result"]["status"] == "violated"  # 45 min against critical's 15
    assert past["sla_result"]["mttr_source"] == "imported"
    assert past["settlement_hold"] == "imported_history" and past["payment"] is None
    assert [e["event"] for e in past["timeline"]] == ["created", "resolved", "sla_evaluated"]
    assert (await api.get("/payments", owner)).json()["total"] == 0  # the wallets were there
    # Nothing releases it: a recompute keeps the outcome and still pays nothing.
    recomputed = await api.post("/sla/calculate", owner, json={"outage_id": past["id"]})
    assert recomputed.status_code in (200, 201), recomputed.text
    await app.state.executor.drain()
    assert (await api.get("/payments", owner)).json()["total"] == 0
    still_open = (await api.get(f"/outages/{body['ids'][1]}", owner)).json()
    assert still_open["status"] == "open" and still_open["settlement_hold"] is None


async def test_a_closed_record_needs_its_start_and_ends_after_it(
    api: Api, engineer: Session
) -> None:
    no_start = {"site_name": "A", "severity": "low", "resolved_at": _ago(5)}
    backwards = {**_closed("B", 10), "resolved_at": _ago(700)}
    response = await api.post("/outages/import", engineer, json={"outages": [no_start, backwards]})
    errors = assert_error(response, 422, "VALIDATION_ERROR")["details"]["errors"]
    assert [(e["index"], e["loc"]) for e in errors] == [(0, ["resolved_at"]), (1, ["resolved_at"])]
    assert "detected_at" in errors[0]["msg"] and "before" in errors[1]["msg"]
    assert (await api.get("/outages/imports", engineer)).json()["total"] == 0  # nothing written


async def test_skip_imports_the_valid_records_and_reports_each_refused_one(
    api: Api, owner: Session, engineer: Session
) -> None:
    records = [
        {"site_name": "Good 1", "severity": "high"},
        {"site_name": "Bad", "severity": "apocalyptic"},
        _closed("Good 2", 10),
    ]
    response = await api.post(
        "/outages/import", engineer, params={"on_error": "skip"}, json={"outages": records}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["imported"], body["closed"], body["skipped"]) == (2, 1, 1)
    assert [(e["index"], e["loc"]) for e in body["errors"]] == [(1, ["severity"])]

    listed = (await api.get("/outages/imports", owner)).json()
    (entry,) = listed["results"]
    assert entry["id"] == body["import_id"] and entry["created_by"].startswith("usr_")
    assert (entry["source"], entry["on_error"], entry["received"]) == ("json", "skip", 3)
    assert (entry["imported"], entry["closed"], entry["skipped"], entry["error_count"]) == (
        2,
        1,
        1,
        1,
    )
    assert entry["errors"][0]["index"] == 1 and entry["outage_ids"] == body["ids"]
    one = await api.get(f"/outages/imports/{body['import_id']}", owner)
    assert one.json() == entry
    stranger = await api.owner()
    assert_error(await api.get(f"/outages/imports/{body['import_id']}", stranger), 404, "NOT_FOUND")
    assert (await api.get("/outages/imports", stranger)).json()["total"] == 0


async def test_a_csv_file_of_closed_outages_is_kept_with_its_name(
    api: Api, engineer: Session
) -> None:
    lines = ["site_name,severity,detected_at,resolved_at,resolution_notes"]
    lines += [f"Tower {i},medium,{_ago(300)},{_ago(300 - 20 * i)},Replaced PSU" for i in (1, 2)]
    lines.append("Tower 3,medium,,,")
    upload = {"file": ("history.csv", "\n".join(lines).encode(), "text/csv")}
    response = await api.post("/outages/import", engineer, files=upload)
    assert response.status_code == 201, response.text
    assert (response.json()["imported"], response.json()["closed"]) == (3, 2)
    entry = (await api.get("/outages/imports", engineer)).json()["results"][0]
    assert (entry["source"], entry["filename"], entry["on_error"]) == (
        "csv_file",
        "history.csv",
        "reject",
    )
    resolved = (await api.get("/outages", engineer, params={"status": "resolved"})).json()
    assert sorted(o["mttr_minutes"] for o in resolved["results"]) == [20, 40]
