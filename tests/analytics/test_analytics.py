"""Analytics over a small known data set: every figure checked by hand."""

import csv
import io
from datetime import timedelta
from typing import Any

import pytest

from app.core.clock import isoformat, utcnow
from tests.helpers import Api, Session, assert_error
from tests.outages.conftest import approve_claims, new_outage, outage_lasting

# (site, region, severity, services, mttr or None for still open)
DATA = [
    ("S1", "west", "critical", ["4G"], 10),  # met, excellent: +1125
    ("S1", "west", "critical", ["4G", "5G"], 25),  # violated: -1000
    ("S2", "east", "high", ["5G"], 20),  # met, excellent: +1125
    ("S2", "east", "low", ["fiber"], 130),  # violated: -100
    ("S3", None, "medium", ["4G"], None),  # open
]


@pytest.fixture
async def owner(api: Api) -> Session:
    """Outages detected three hours ago, resolved with the MTTRs of DATA as claims (the clock
    stopped now) that a second person approved."""
    session = await api.owner()
    approver = await api.member(session, "admin")
    detected = utcnow() - timedelta(hours=3)
    for site, region, severity, services, mttr in DATA:
        fields: dict[str, Any] = {
            "site_name": site,
            "severity": severity,
            "services_affected": services,
            "detected_at": isoformat(detected),
        }
        if region:
            fields["region"] = region
        outage = await new_outage(api, session, **fields)
        if mttr is not None:
            resolved = isoformat(detected + timedelta(minutes=mttr))
            response = await api.post(
                f"/outages/{outage['id']}/resolve", session, json={"resolved_at": resolved}
            )
            assert response.status_code == 200
            await approve_claims(api, approver, outage["id"])
    return session


async def test_summary(api: Api, owner: Session) -> None:
    body = (await api.get("/sla/analytics/summary", owner)).json()
    assert body["outages_evaluated"] == 4 and body["sla_violated"] == 2
    assert body["violation_rate"] == 50.0 and body["average_mttr_minutes"] == 46.25
    assert (body["total_penalties"], body["total_rewards"], body["net_amount"]) == (
        1100.0,
        2250.0,
        1150.0,
    )
    later = isoformat(utcnow() + timedelta(minutes=1))
    empty = (await api.get("/sla/analytics/summary", owner, params={"start": later})).json()
    assert empty["outages_evaluated"] == 0 and empty["violation_rate"] == 0.0


async def test_rolling_window(api: Api, owner: Session) -> None:
    body = (
        await api.get(
            "/sla/analytics/window", owner, params={"window": "7d", "granularity": "week"}
        )
    ).json()
    assert sum(b["outages_evaluated"] for b in body["buckets"]) == 4
    assert_error(
        await api.get("/sla/analytics/window", owner, params={"window": "8d"}),
        422,
        "VALIDATION_ERROR",
    )


async def test_aggregation_by_service_region_and_severity(api: Api, owner: Session) -> None:
    def groups(group_by: str) -> Any:
        return api.get("/sla/performance/aggregation", owner, params={"group_by": group_by})

    by_service = {g["group"]: g for g in (await groups("service")).json()["groups"]}
    assert {k: (v["outages_evaluated"], v["sla_violated"]) for k, v in by_service.items()} == {
        "4G": (2, 1),
        "5G": (2, 1),
        "fiber": (1, 1),
    }
    by_region = {g["group"]: g for g in (await groups("region")).json()["groups"]}
    assert by_region["east"]["total_penalties"] == 100.0
    assert by_region["west"]["net_amount"] == 125.0
    by_severity = {
        g["group"]: g["outages_evaluated"] for g in (await groups("severity")).json()["groups"]
    }
    assert by_severity == {"critical": 2, "high": 1, "low": 1}


async def test_mttr_average_median_and_groups(api: Api, owner: Session) -> None:
    body = (await api.get("/analytics/mttr", owner, params={"group_by": "site"})).json()
    overall = body["overall"]
    assert overall["average_mttr_minutes"] == 46.25 and overall["median_mttr_minutes"] == 22.5
    assert overall["total_outages"] == 4 and overall["sla_compliance_rate"] == 50.0
    critical = body["by_severity"]["critical"]
    assert (
        critical["count"],
        critical["median_mttr_minutes"],
        critical["sla_met"],
        critical["sla_violated"],
    ) == (2, 17.5, 1, 1)
    sites = {g["group"]: g["average_mttr_minutes"] for g in body["groups"]}
    assert sites == {"S1": 17.5, "S2": 75.0}
    only_high = (await api.get("/analytics/mttr", owner, params={"severity": "high"})).json()
    assert only_high["overall"]["median_mttr_minutes"] == 20.0


async def test_snapshot_at_a_moment(api: Api, owner: Session) -> None:
    now = (await api.get("/sla/snapshots", owner)).json()
    assert [o["site_name"] for o in now["open_outages"]] == ["S3"]
    assert now["open_outages"][0]["sla_state"] == "violated"  # 3 h against 60 min
    early = isoformat(utcnow() - timedelta(hours=3) + timedelta(minutes=15))
    then = (await api.get("/sla/snapshots", owner, params={"at": early})).json()
    states = {o["site_name"] + o["severity"]: o["sla_state"] for o in then["open_outages"]}
    assert states == {
        "S1critical": "in_progress",
        "S2high": "in_progress",
        "S2low": "in_progress",
        "S3medium": "in_progress",
    }


async def test_export_csv_and_json(api: Api, owner: Session) -> None:
    response = await api.get("/sla/export", owner, params={"format": "csv"})
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 4 and {r["status"] for r in rows} == {"met", "violated"}
    violated = (
        await api.get("/sla/export", owner, params={"format": "json", "status": "violated"})
    ).json()
    assert sorted(r["amount"] for r in violated) == ["100.0000000", "1000.0000000"]
    assert_error(await api.get("/sla/export", owner), 422, "VALIDATION_ERROR")
    assert_error(
        await api.get("/sla/export", owner, params={"format": "xml"}), 422, "VALIDATION_ERROR"
    )


async def test_analytics_see_one_organization(api: Api, owner: Session) -> None:
    stranger = await api.owner()
    body = (await api.get("/sla/analytics/summary", stranger)).json()
    assert body["outages_evaluated"] == 0
    assert (await api.get("/analytics/mttr", stranger)).json()["overall"]["total_outages"] == 0


async def test_csv_export_neutralizes_spreadsheet_formulas(api: Api) -> None:
    owner = await api.owner()
    outage, lasting = await outage_lasting(
        api, owner, 5, site_name='=HYPERLINK("http://evil.example","x")'
    )
    await api.post(f"/outages/{outage['id']}/resolve", owner, json=lasting)
    rows = list(
        csv.DictReader(
            io.StringIO((await api.get("/sla/export", owner, params={"format": "csv"})).text)
        )
    )
    assert rows[0]["site_name"].startswith("'=HYPERLINK")
    assert rows[0]["amount"] == "1500.0000000"
