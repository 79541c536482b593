"""Review probes: hostile inputs."""

from typing import Any

import pytest

from tests.helpers import Api, Session
from tests.outages.conftest import new_outage


async def test_resolve_old_outage_mttr_over_cap(api: Api, owner: Session) -> None:
    outage = await new_outage(api, owner, detected_at="2000-01-01T00:00:00Z")
    r = await api.post(f"/outages/{outage['id']}/resolve", owner, json={})
    print("RESOLVE OLD", r.status_code, r.text[:300])
    assert r.status_code != 500


async def test_import_old_then_resolve(api: Api, owner: Session) -> None:
    r = await api.post(
        "/outages/import",
        owner,
        json={
            "outages": [
                {"site_name": "x", "severity": "low", "detected_at": "1970-01-01T00:00:00Z"}
            ]
        },
    )
    assert r.status_code == 201, r.text
    oid = r.json()["ids"][0]
    r = await api.post(f"/outages/{oid}/resolve", owner, json={})
    print("IMPORT RESOLVE", r.status_code, r.text[:300])
    assert r.status_code != 500


@pytest.mark.parametrize(
    "field", ["site_name", "severity", "status", "services_affected", "location", "region"]
)
async def test_patch_null(api: Api, owner: Session, field: str) -> None:
    outage = await new_outage(api, owner)
    r = await api.patch(f"/outages/{outage['id']}", owner, json={field: None})
    print("PATCH NULL", field, r.status_code, r.text[:200])
    assert r.status_code in (200, 422)


async def test_snapshot_huge_offset(api: Api, owner: Session) -> None:
    r = await api.get("/sla/snapshots", owner, params={"offset": str(10**20)})
    print("SNAP", r.status_code, r.text[:200])
    assert r.status_code in (200, 422)
    r = await api.get("/sla/snapshots", owner, params={"offset": str(2**63 - 1)})
    print("SNAP2", r.status_code, r.text[:200])
    assert r.status_code in (200, 422)


RAW = [
    ("/outages", '{"site_name":"a","severity":"low","location":{"latitude":NaN,"longitude":0}}'),
    (
        "/outages",
        '{"site_name":"a","severity":"low","location":{"latitude":Infinity,"longitude":0}}',
    ),
    ("/outages", '{"site_name":"a","severity":"low","affected_subscribers":1e400}'),
    ("/outages", '{"site_name":"a","severity":"low","affected_subscribers":NaN}'),
    (
        "/outages",
        '{"site_name":"a","severity":"low","affected_subscribers":99999999999999999999999999}',
    ),
    ("/outages", '{"site_name":"a","severity":"low","services_affected":[[1]]}'),
    ("/outages", '{"site_name":{"a":1},"severity":"low"}'),
    ("/outages", "[1,2]"),
    ("/outages", '"x"'),
    ("/outages", '{"site_name":"a","severity":"low","detected_at":"0001-01-01T00:00:00Z"}'),
    ("/outages", '{"site_name":"a","severity":"low","detected_at":"9999-12-31T23:59:59+00:00"}'),
    ("/outages", '{"site_name":"a","severity":"low","detected_at":"0001-01-01T00:00:00+01:00"}'),
    ("/outages", '{"site_name":"a","severity":"low","detected_at":1e20}'),
    ("/outages", '{"site_name":"a","severity":"low","detected_at":-1e20}'),
    ("/outages", '{"site_name":"a","severity":"low","detected_at":NaN}'),
    ("/outages", '{"site_name":"\\ud800","severity":"low"}'),
    ("/sla/preview", '{"severity":"low","mttr_minutes":NaN}'),
    ("/sla/preview", '{"severity":"low","mttr_minutes":Infinity}'),
    ("/sla/preview", '{"severity":"low","mttr_minutes":1e300}'),
    ("/sla/preview", '{"severity":"low","mttr_minutes":10.0}'),
    ("/sla/preview", '{"severity":"low","mttr_minutes":10.5}'),
    ("/sla/preview", '{"severity":"low","mttr_minutes":"1e3"}'),
    ("/sla/preview", '{"severity":"low","mttr_minutes":5,"outage_id":"\\u00e9\\u00e9"}'),
    ("/sla/calculate", '{"outage_id":["x"]}'),
    ("/sla/recalculate", '{"outage_ids":[1,2]}'),
    ("/sla/recalculate", '{"outage_ids":"abc"}'),
    ("/sla/recalculate", '{"all":"yes"}'),
    (
        "/sla/disputes",
        '{"outage_id":"out_x","sla_result_id":"sla_x","reason":"abc","proposed_mttr_minutes":NaN}',
    ),
    ("/sla/disputes/bulk-resolve", '{"dispute_ids":[],"resolution":"accepted"}'),
    ("/sla/disputes/bulk-resolve", '{"dispute_ids":["a","a"],"resolution":"rejected"}'),
    ("/outages/import", '{"outages":[NaN]}'),
    (
        "/outages/import",
        '{"outages":[{"site_name":"a","severity":"low","location":{"latitude":NaN,"longitude":1}}]}',
    ),
]


@pytest.mark.parametrize("path,raw", RAW)
async def test_raw_post(api: Api, owner: Session, path: str, raw: str) -> None:
    r = await api.post(
        path, owner, content=raw.encode(), headers={"content-type": "application/json"}
    )
    print("RAW", path, raw[:80], r.status_code, r.text[:250])
    assert r.status_code != 500


@pytest.mark.parametrize(
    "raw",
    [
        '{"threshold_minutes":10,"penalty_per_minute":NaN,"reward_base":1}',
        '{"threshold_minutes":10,"penalty_per_minute":Infinity,"reward_base":1}',
        '{"threshold_minutes":10,"penalty_per_minute":1e-300,"reward_base":1}',
        '{"threshold_minutes":10,"penalty_per_minute":1e300,"reward_base":1}',
        '{"threshold_minutes":10,"penalty_per_minute":"NaN","reward_base":1}',
        '{"threshold_minutes":10,"penalty_per_minute":"-0","reward_base":"1E+2"}',
        '{"threshold_minutes":10.0,"penalty_per_minute":0.1,"reward_base":0.0000001}',
        '{"threshold_minutes":1e1,"penalty_per_minute":1,"reward_base":1}',
        '{"threshold_minutes":10,"penalty_per_minute":"sNaN","reward_base":1}',
    ],
)
async def test_put_config(api: Api, owner: Session, raw: str) -> None:
    r = await api.put(
        "/sla/config/low", owner, content=raw.encode(), headers={"content-type": "application/json"}
    )
    print("CONFIG", raw, r.status_code, r.text[:250])
    assert r.status_code != 500


@pytest.mark.parametrize(
    "path,params",
    [
        ("/outages", {"start_date": "0001-01-01T00:00:00Z"}),
        ("/outages", {"start_date": "9999-12-31T23:59:59Z"}),
        ("/outages", {"limit": "1.5"}),
        ("/outages", {"offset": "99999999999999999999"}),
        ("/outages", {"site_name": "\u00e9" * 255}),
        ("/outages/search", {"q": "'&|!:*()"}),
        ("/outages/search", {"q": "a" * 500}),
        ("/outages/search", {"q": "   "}),
        ("/outages/search", {"q": "\\"}),
        ("/outages/search", {"q": "%_"}),
        ("/sla/snapshots", {"at": "1970-01-01T00:00:00Z"}),
        ("/sla/snapshots", {"at": "9998-12-31T23:59:59Z"}),
        ("/sla/snapshots", {"limit": "0"}),
        ("/sla/export", {"format": "csv", "start": "9998-12-31T23:59:59Z"}),
        ("/sla/export", {"format": "xml"}),
        ("/sla/analytics/summary", {"start": "9998-12-31T23:59:59-12:00"}),
        ("/sla/analytics/summary", {"start": "1970-01-01T00:00:00+14:00"}),
        ("/analytics/mttr", {"group_by": "week", "start_date": "1970-01-01T00:00:00Z"}),
        ("/sla/performance/aggregation", {"group_by": "service"}),
        ("/sla/disputes", {"status": "closed"}),
        ("/sla/disputes/" + "x" * 64, {}),
        ("/sla/results/" + "x" * 65, {}),
        ("/sla/status/" + "\u00e9" * 30, {}),
    ],
)
async def test_gets(api: Api, owner: Session, path: str, params: dict[str, Any]) -> None:
    r = await api.get(path, owner, params=params)
    print("GET", path[:40], params, r.status_code, r.text[:200])
    assert r.status_code != 500
