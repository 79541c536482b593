"""Review probes: tenant isolation across SLA/analytics/dispute routes."""

import json
from datetime import timedelta

from app.core.clock import isoformat, utcnow
from tests.helpers import Api
from tests.outages.conftest import new_outage


async def test_other_org_cannot_see(api: Api) -> None:
    a = await api.owner()
    b = await api.owner()
    detected = utcnow() - timedelta(hours=2)
    o = await new_outage(
        api,
        a,
        site_name="SecretSite",
        description="secretword",
        detected_at=isoformat(detected),
        region="north",
    )
    r = await api.post(f"/outages/{o['id']}/resolve", a, json={"mttr_minutes": 40})
    assert r.status_code == 200
    sla_id = r.json()["sla_result"]["id"]
    open_o = await new_outage(api, a, site_name="OpenSite", detected_at=isoformat(detected))
    leaks = []
    for path, params in [
        ("/outages", {}),
        ("/outages/search", {"q": "secretword"}),
        ("/sla/analytics/summary", {}),
        ("/sla/analytics/window", {}),
        ("/sla/performance/aggregation", {"group_by": "service"}),
        ("/sla/performance/aggregation", {"group_by": "region"}),
        ("/analytics/mttr", {"group_by": "site"}),
        ("/sla/export", {"format": "json"}),
        ("/sla/snapshots", {}),
        ("/sla/disputes", {}),
    ]:
        resp = await api.get(path, b, params=params)
        text = resp.text
        if (
            o["id"] in text
            or "SecretSite" in text
            or "OpenSite" in text
            or '"outages_evaluated":1' in text
            or "4G" in text
            or "north" in text
            or '"total_outages":1' in text
        ):
            leaks.append((path, params, text[:300]))
    for path in [
        f"/outages/{o['id']}",
        f"/sla/status/{o['id']}",
        f"/sla/results/{o['id']}",
        f"/outages/{o['id']}/timeline",
        f"/outages/{open_o['id']}",
    ]:
        resp = await api.get(path, b)
        if resp.status_code != 404:
            leaks.append((path, resp.status_code, resp.text[:200]))
    for path, body in [
        ("/sla/calculate", {"outage_id": o["id"]}),
        ("/sla/preview", {"outage_id": o["id"], "severity": "low", "mttr_minutes": 3}),
        ("/sla/disputes", {"outage_id": o["id"], "sla_result_id": sla_id, "reason": "abcd"}),
        (f"/outages/{o['id']}/rca", {"root_cause": "x", "remediation": "y"}),
        (f"/outages/{open_o['id']}/resolve", {}),
    ]:
        resp = await api.post(path, b, json=body)
        if resp.status_code != 404:
            leaks.append((path, resp.status_code, resp.text[:200]))
    resp = await api.patch(f"/outages/{open_o['id']}", b, json={"site_name": "pwn"})
    if resp.status_code != 404:
        leaks.append(("patch", resp.status_code))
    resp = await api.post("/sla/recalculate", b, json={"outage_ids": [o["id"]]})
    if o["id"] not in json.dumps(resp.json().get("errors")):
        leaks.append(("recalc", resp.text[:200]))
    # b's own dispute using a's sla_result id with b's outage
    ob = await new_outage(api, b)
    await api.post(f"/outages/{ob['id']}/resolve", b, json={"mttr_minutes": 5})
    resp = await api.post(
        "/sla/disputes", b, json={"outage_id": ob["id"], "sla_result_id": sla_id, "reason": "abcd"}
    )
    if resp.status_code != 404:
        leaks.append(("dispute cross", resp.status_code, resp.text[:200]))
    print("LEAKS", leaks)
    assert not leaks
