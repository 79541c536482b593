"""Faults meet outages: join an open one, open one, and report when all are resolved."""

from __future__ import annotations

from typing import Any

from tests.faults.test_faults import report
from tests.helpers import Api


async def _timeline(api: Api, owner: Any, outage_id: str) -> list[str]:
    detail = (await api.get(f"/outages/{outage_id}", owner)).json()
    return [e["event"] for e in detail["timeline"]]


async def test_a_fault_on_a_site_with_an_open_outage_joins_its_timeline(api: Api) -> None:
    owner = await api.owner()
    outage = (
        await api.post(
            "/outages",
            owner,
            json={"site_name": "Tower A", "site_id": "site_A", "severity": "high"},
        )
    ).json()
    fault = await report(api, owner, resource_ancestry_path="region|site_A|dev_1", severity="LOW")
    assert fault["outage_id"] == outage["id"] and fault["opened_outage"] is False
    assert "fault_correlated" in await _timeline(api, owner, outage["id"])


async def test_a_critical_fault_on_a_quiet_site_opens_an_outage_and_reports_resolution(
    api: Api,
) -> None:
    owner = await api.owner()
    quiet = await report(
        api, owner, severity="LOW", resource_ancestry_path="site_Q|dev_0", resource_id="dev_0"
    )
    assert quiet["outage_id"] is None
    fault = await report(
        api,
        owner,
        severity="CRITICAL",
        resource_ancestry_path="region|site_Q|dev_1",
        resource_id="dev_1",
    )
    assert fault["opened_outage"] is True and fault["outage_id"]
    outage = (await api.get(f"/outages/{fault['outage_id']}", owner)).json()
    assert (outage["site_id"], outage["severity"], outage["status"]) == (
        "site_Q",
        "critical",
        "open",
    )
    assert "fault_opened_outage" in [e["event"] for e in outage["timeline"]]
    second = await report(
        api,
        owner,
        severity="HIGH",
        type="power",
        resource_ancestry_path="site_Q|dev_2",
        resource_id="dev_2",
    )
    assert second["outage_id"] == fault["outage_id"] and second["opened_outage"] is False
    await api.post(f"/faults/{fault['id']}/resolve", owner)
    assert "faults_resolved" not in await _timeline(api, owner, fault["outage_id"])
    await api.post(f"/faults/{second['id']}/resolve", owner)
    assert "faults_resolved" in await _timeline(api, owner, fault["outage_id"])
    assert (await api.get(f"/outages/{fault['outage_id']}", owner)).json()["status"] == "open"


async def test_the_rules_switch_auto_open_off_and_auto_resolve_on(api: Api) -> None:
    owner = await api.owner()
    assert (await api.get("/faults/rules", owner)).json() == {
        "auto_open_outages": True,
        "auto_resolve_outages": False,
    }
    off = await api.put("/faults/rules", owner, json={"auto_open_outages": False})
    assert off.json()["auto_open_outages"] is False
    quiet = await report(api, owner, severity="CRITICAL", resource_ancestry_path="site_Z|dev_1")
    assert quiet["outage_id"] is None
    await api.put(
        "/faults/rules", owner, json={"auto_open_outages": True, "auto_resolve_outages": True}
    )
    fault = await report(
        api, owner, severity="HIGH", type="fiber", resource_ancestry_path="site_Y|dev_1"
    )
    await api.post(f"/faults/{fault['id']}/resolve", owner)
    outage = (await api.get(f"/outages/{fault['outage_id']}", owner)).json()
    assert outage["status"] == "resolved" and outage["sla_result"] is not None
    engineer = await api.member(owner, "engineer")
    assert (
        await api.put("/faults/rules", engineer, json={"auto_open_outages": False})
    ).status_code == 403


async def test_concurrent_critical_faults_on_a_quiet_site_open_one_outage(api: Api) -> None:
    import asyncio

    owner = await api.owner()
    answers = await asyncio.gather(
        *(
            api.post(
                "/faults",
                owner,
                json={
                    "resource_id": f"dev_{n}",
                    "microservice_id": "probe",
                    "type": "power",
                    "severity": "CRITICAL",
                    "message": "down",
                    "cause": "mains",
                    "resource_ancestry_path": f"site_x|dev_{n}",
                },
            )
            for n in range(8)
        )
    )
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["outage_id"] for a in answers}) == 1
    assert sum(a.json()["opened_outage"] for a in answers) == 1


async def test_a_site_named_longer_than_an_outage_can_hold_still_gets_one_outage(
    api: Api,
) -> None:
    """Found by schemathesis: a path segment may be 2 048 characters, an outage's `site_id`
    128 and its `site_name` 255. Opening an outage for such a site answered 500."""
    owner = await api.owner()
    long_site = "0" * 2040
    first = await report(
        api, owner, severity="HIGH", resource_ancestry_path=long_site, resource_id="dev_a"
    )
    assert first["opened_outage"] is True
    outage = (await api.get(f"/outages/{first['outage_id']}", owner)).json()
    assert len(outage["site_id"]) <= 128 and outage["site_name"].endswith("…")
    second = await report(
        api, owner, severity="CRITICAL", resource_ancestry_path=long_site, resource_id="dev_b"
    )
    batch = await api.post(
        "/faults/batch",
        owner,
        json={
            "faults": [
                {
                    "resource_id": "dev_c",
                    "microservice_id": "nms",
                    "type": "link-down",
                    "severity": "CRITICAL",
                    "message": "LOS",
                    "cause": "fiber cut",
                    "resource_ancestry_path": f"{long_site}|dev_c",
                }
            ]
        },
    )
    assert batch.status_code == 200, batch.text
    joined = batch.json()["results"][0]["fault"]
    assert second["outage_id"] == joined["outage_id"] == first["outage_id"]
    assert (await api.get("/outages", owner)).json()["total"] == 1


async def test_a_fault_joins_a_reported_outage_whose_site_name_is_long(api: Api) -> None:
    """A person may name a site with up to 255 characters; a fault on it joins that outage."""
    owner = await api.owner()
    site = "S" * 200
    outage = (
        await api.post("/outages", owner, json={"site_name": site, "severity": "high"})
    ).json()
    fault = await report(
        api, owner, severity="CRITICAL", resource_ancestry_path=f"{site}|dev_1", resource_id="dev_1"
    )
    assert (fault["outage_id"], fault["opened_outage"]) == (outage["id"], False)
    assert (await api.get("/outages", owner)).json()["total"] == 1
