import asyncio

from tests.helpers import Api
from tests.outages.conftest import new_outage


async def test_idempotent_posts(api: Api) -> None:
    s = await api.owner()
    h = {"Idempotency-Key": "k-out-1"}
    body = {"site_name": "A", "severity": "low"}
    a = await api.post("/outages", s, json=body, headers=h)
    b = await api.post("/outages", s, json=body, headers=h)
    print(
        "OUT",
        a.status_code,
        b.status_code,
        a.json()["id"] == b.json()["id"],
        b.headers.get("idempotent-replayed"),
    )
    o = a.json()
    h = {"Idempotency-Key": "k-res-1"}
    r1 = await api.post(f"/outages/{o['id']}/resolve", s, json={"mttr_minutes": 5}, headers=h)
    r2 = await api.post(f"/outages/{o['id']}/resolve", s, json={"mttr_minutes": 5}, headers=h)
    print("RES", r1.status_code, r2.status_code, r2.headers.get("idempotent-replayed"))
    files = {"file": ("o.csv", b"site_name,severity\nX,low\n", "text/csv")}
    h = {"Idempotency-Key": "k-imp-1"}
    i1 = await api.post("/outages/import", s, files=files, headers=h)
    i2 = await api.post("/outages/import", s, files=files, headers=h)
    print(
        "IMP",
        i1.status_code,
        i2.status_code,
        i1.text[:80],
        i2.text[:80],
        i2.headers.get("idempotent-replayed"),
    )
    # concurrent same key
    o2 = await new_outage(api, s)
    h = {"Idempotency-Key": "k-res-2"}
    c1, c2 = await asyncio.gather(
        api.post(f"/outages/{o2['id']}/resolve", s, json={"mttr_minutes": 5}, headers=h),
        api.post(f"/outages/{o2['id']}/resolve", s, json={"mttr_minutes": 5}, headers=h),
    )
    print("CONC", c1.status_code, c2.status_code)
    # patch location identical -> should write nothing
    o3 = await new_outage(api, s, location={"latitude": 1.0, "longitude": 2.0})
    p = await api.patch(
        f"/outages/{o3['id']}", s, json={"location": {"latitude": 1.0, "longitude": 2.0}}
    )
    print("PATCHLOC", [e["event"] for e in p.json()["timeline"]])
