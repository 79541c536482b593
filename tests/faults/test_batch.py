"""Batch fault intake: outcomes in order, the same dedup and correlation as single intake,
one transaction, idempotent, safe beside concurrent single reports."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.faults.test_faults import SEED, report
from tests.helpers import Api, assert_error


def _fault(n: int, **fields: Any) -> dict[str, Any]:
    return {
        **SEED,
        "resource_id": f"dev_{n}",
        "resource_ancestry_path": f"region_1|site_{n % 3}|dev_{n}",
        "severity": "LOW",
        **fields,
    }


async def _batch(api: Api, who: Any, faults: list[Any], **kw: Any) -> dict[str, Any]:
    response = await api.post("/faults/batch", who, json={"faults": faults}, **kw)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_outcomes_in_order_with_repeats_and_refusals(api: Api) -> None:
    owner = await api.owner()
    earlier = await report(api, owner, **_fault(1))
    body = await _batch(
        api,
        owner,
        [
            _fault(1),  # repeats the fault reported before the batch
            _fault(2),
            {**_fault(3), "severity": "SEVERE"},  # refused alone
            _fault(2),  # repeats a report of this same batch
            "not an object",
            _fault(4, type="power"),
        ],
    )
    statuses = [r["status"] for r in body["results"]]
    assert statuses == ["folded", "created", "refused", "folded", "refused", "created"]
    assert [r["index"] for r in body["results"]] == list(range(6))
    assert (body["created"], body["folded"], body["refused"]) == (2, 2, 2)
    first, second, bad, again, _, power = body["results"]
    assert first["fault"]["id"] == earlier["id"] and first["fault"]["occurrences"] == 2
    assert again["fault"]["id"] == second["fault"]["id"]
    assert again["fault"]["occurrences"] == 2
    assert bad["fault"] is None and bad["errors"][0]["loc"] == ["severity"]
    assert power["fault"]["type"] == "power"
    stored = (await api.get("/faults", owner, params={"limit": 50})).json()["results"]
    counts = {f["resource_id"]: f["occurrences"] for f in stored}
    assert counts == {"dev_1": 2, "dev_2": 2, "dev_4": 1}


async def test_critical_reports_open_one_outage_per_site_and_join_open_ones(api: Api) -> None:
    owner = await api.owner()
    open_outage = (
        await api.post(
            "/outages", owner, json={"site_name": "Site 0", "site_id": "site_0", "severity": "low"}
        )
    ).json()
    faults = [_fault(n, severity="CRITICAL", type=f"link-{n}") for n in range(9)]
    body = await _batch(api, owner, faults)
    assert body["created"] == 9
    by_site: dict[str, set[str]] = {}
    for result in body["results"]:
        fault = result["fault"]
        site = fault["resource_ancestry_path"].split("|")[1]
        by_site.setdefault(site, set()).add(fault["outage_id"])
    # site_0 had an open outage: its faults joined it; sites 1 and 2 got one outage each.
    assert by_site["site_0"] == {open_outage["id"]}
    assert all(len(ids) == 1 and None not in ids for ids in by_site.values())
    opened = [r["fault"] for r in body["results"] if r["fault"]["opened_outage"]]
    assert sorted(f["resource_ancestry_path"].split("|")[1] for f in opened) == [
        "site_1",
        "site_2",
    ]
    outages = (await api.get("/outages", owner, params={"limit": 50})).json()
    assert outages["total"] == 3
    # The faults that joined site_0's outage are one line of its timeline, not three.
    detail = (await api.get(f"/outages/{open_outage['id']}", owner)).json()
    joined = [e for e in detail["timeline"] if e["event"] == "faults_correlated"]
    assert len(joined) == 1 and joined[0]["data"]["count"] == 3


async def test_limits_roles_and_api_keys(api: Api) -> None:
    owner = await api.owner()
    assert_error(
        await api.post("/faults/batch", owner, json={"faults": []}), 422, "VALIDATION_ERROR"
    )
    too_many = [_fault(n) for n in range(1001)]
    assert_error(
        await api.post("/faults/batch", owner, json={"faults": too_many}), 422, "VALIDATION_ERROR"
    )
    viewer = await api.member(owner, "viewer")
    assert_error(
        await api.post("/faults/batch", viewer, json={"faults": [_fault(1)]}), 403, "FORBIDDEN"
    )
    assert_error(await api.post("/faults/batch", json={"faults": [_fault(1)]}), 401, "UNAUTHORIZED")
    key = (await api.post("/api-keys", owner, json={"name": "probe", "role": "engineer"})).json()
    body = await _batch(api, None, [_fault(1)], headers={"X-API-Key": key["key"]})
    assert body["created"] == 1
    assert (await api.get("/faults", owner)).json()["total"] == 1


async def test_a_retry_with_the_same_key_replays_and_counts_nothing_twice(api: Api) -> None:
    owner = await api.owner()
    faults = [_fault(n) for n in range(5)] + [_fault(0)]
    headers = {"Idempotency-Key": "storm-batch-1"}
    first = await _batch(api, owner, faults, headers=headers)
    again = await _batch(api, owner, faults, headers=headers)
    assert again == first
    stored = (await api.get("/faults", owner, params={"limit": 50})).json()["results"]
    assert sorted(f["occurrences"] for f in stored) == [1, 1, 1, 1, 2]


async def test_concurrent_batches_and_single_reports_add_up(api: Api) -> None:
    owner = await api.owner()
    # Overlapping keys and sites in different orders, with critical reports that lock sites.
    forward = [_fault(n % 7, severity="CRITICAL") for n in range(40)]
    backward = list(reversed(forward))

    async def single(n: int) -> int:
        response = await api.post("/faults", owner, json=_fault(n % 7, severity="CRITICAL"))
        return response.status_code

    answers = await asyncio.gather(
        api.post("/faults/batch", owner, json={"faults": forward}),
        api.post("/faults/batch", owner, json={"faults": backward}),
        *(single(n) for n in range(10)),
    )
    codes = [a if isinstance(a, int) else a.status_code for a in answers]
    assert all(code in (200, 201) for code in codes), codes
    stored = (await api.get("/faults", owner, params={"limit": 50})).json()["results"]
    assert len(stored) == 7  # one fault per resource: every other report folded into it
    assert sum(f["occurrences"] for f in stored) == 40 + 40 + 10
    outages = (await api.get("/outages", owner, params={"limit": 50})).json()
    assert outages["total"] == 3  # one per site
