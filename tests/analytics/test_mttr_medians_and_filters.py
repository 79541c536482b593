from datetime import timedelta

from app.core.clock import isoformat, utcnow
from tests.helpers import Api
from tests.outages.conftest import approve_claims, new_outage


async def test_medians_and_filters(api: Api) -> None:
    s = await api.owner()
    approver = await api.member(s, "admin")
    empty = (await api.get("/analytics/mttr", s)).json()
    print("EMPTY", empty)
    print("EMPTYSUM", (await api.get("/sla/analytics/summary", s)).json())
    print("EMPTYWIN", (await api.get("/sla/analytics/window", s)).json()["buckets"])
    base = utcnow() - timedelta(days=3)
    for i, mttr in enumerate([10, 20, 30, 41]):
        o = await new_outage(
            api, s, severity="high", detected_at=isoformat(base + timedelta(days=i % 2))
        )
        r = await api.post(
            f"/outages/{o['id']}/resolve",
            s,
            json={
                "mttr_minutes": mttr,
                "resolved_at": isoformat(base + timedelta(days=i % 2, hours=1)),
            },
        )
        assert r.status_code == 200
        await approve_claims(api, approver, o["id"])  # the claimed MTTRs, approved
    m = (await api.get("/analytics/mttr", s, params={"group_by": "day"})).json()
    print("MTTR", m)
    assert m["overall"]["median_mttr_minutes"] == 25.0
    one = (
        await api.get(
            "/analytics/mttr", s, params={"start_date": isoformat(base + timedelta(hours=20))}
        )
    ).json()
    print("ONE", one["overall"])
    summ = (
        await api.get(
            "/sla/analytics/summary",
            s,
            params={"start": isoformat(base + timedelta(hours=20)), "end": isoformat(utcnow())},
        )
    ).json()
    print("SUM", summ)
    print(
        "WIN",
        (
            await api.get(
                "/sla/analytics/window", s, params={"window": "7d", "granularity": "week"}
            )
        ).json()["buckets"],
    )
    print(
        "AGG",
        (await api.get("/sla/performance/aggregation", s, params={"group_by": "service"})).json()[
            "groups"
        ],
    )
