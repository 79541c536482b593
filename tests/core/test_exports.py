"""Exports over HTTP (issue 26 A.5): streamed CSV and JSON, filtered like their lists,
formula-safe, one organization's rows only."""

from __future__ import annotations

import csv
import io
from typing import Any

from tests.helpers import Api, assert_error
from tests.outages.conftest import resolved_lasting
from tests.payments.conftest import open_wallets, register_wallets, resolve


async def test_outages_export_as_csv_and_json_filtered_like_the_list(api: Api) -> None:
    owner = await api.owner()
    stranger = await api.owner()
    for index, severity in enumerate(("critical", "low", "critical")):
        body = {"site_name": f'=HYPERLINK("x") {index}', "severity": severity}
        assert (await api.post("/outages", owner, json=body)).status_code == 201
    await api.post("/outages", stranger, json={"site_name": "Theirs", "severity": "critical"})

    exported = await api.get("/outages/export", owner, params={"severity": "critical"})
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"].startswith("text/csv")
    assert 'filename="outages-' in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(rows) == 2 and {r["severity"] for r in rows} == {"critical"}
    assert all(r["site_name"].startswith("'=HYPERLINK") for r in rows)  # not a formula

    as_json = (await api.get("/outages/export", owner, params={"format": "json"})).json()
    assert as_json["truncated"] is False and len(as_json["rows"]) == 3
    assert as_json["rows"][0]["site_name"] == '=HYPERLINK("x") 2'  # newest first, as is
    assert "Theirs" not in exported.text + str(as_json)
    assert_error(
        await api.get("/outages/export", owner, params={"format": "xml"}), 422, "VALIDATION_ERROR"
    )


async def test_payments_export_filters_and_carries_the_ledger_fields(app: Any, api: Api) -> None:
    owner = await api.owner()
    await register_wallets(api, owner, await open_wallets(app))
    await resolve(api, owner, mttr=5)  # a reward
    await resolve(api, owner, mttr=25)  # a penalty
    await app.state.executor.drain()
    rewards = await api.get("/payments/export", owner, params={"type": "reward"})
    assert rewards.status_code == 200, rewards.text
    (row,) = list(csv.DictReader(io.StringIO(rewards.text)))
    assert (row["type"], row["amount"], row["asset_code"]) == ("reward", "1500.0", "USDC")
    assert row["status"] == "confirmed" and len(row["transaction_hash"]) == 64
    every = (await api.get("/payments/export", owner, params={"format": "json"})).json()
    assert {r["type"] for r in every["rows"]} == {"reward", "penalty"}


async def test_disputes_list_and_export_narrow_to_one_outage(api: Api) -> None:
    owner = await api.owner()
    engineer = await api.member(owner, "engineer")
    disputed = []
    for mttr in (25, 30):
        outage = await resolved_lasting(api, await api.member(owner, "engineer"), mttr)
        body = {
            "outage_id": outage["id"],
            "sla_result_id": outage["sla_result"]["id"],
            "reason": "=cmd|' /C calc'!A0 started early",
        }
        assert (await api.post("/sla/disputes", engineer, json=body)).status_code == 201
        disputed.append(outage["id"])

    one = await api.get("/sla/disputes", owner, params={"outage_id": disputed[0]})
    assert [d["outage_id"] for d in one.json()["results"]] == [disputed[0]]
    exported = await api.get("/sla/disputes/export", owner, params={"outage_id": disputed[1]})
    assert exported.status_code == 200, exported.text
    (row,) = list(csv.DictReader(io.StringIO(exported.text)))
    assert row["outage_id"] == disputed[1] and row["status"] == "open"
    assert row["reason"].startswith("'=cmd") and "proposed_mttr_minutes" not in row
    every = (await api.get("/sla/disputes/export", owner, params={"format": "json"})).json()
    assert sorted(r["outage_id"] for r in every["rows"]) == sorted(disputed)
    stranger = await api.owner()
    theirs = await api.get("/sla/disputes/export", stranger, params={"format": "json"})
    assert theirs.json()["rows"] == []


async def test_audit_export_is_for_admins_and_keeps_the_chain_fields(api: Api) -> None:
    owner = await api.owner()
    await api.post("/outages", owner, json={"site_name": "Audited", "severity": "low"})
    viewer = await api.member(owner, "viewer")
    assert_error(await api.get("/audit/export", viewer), 403, "FORBIDDEN")

    exported = await api.get("/audit/export", owner, params={"event_type": "outage.created"})
    assert exported.status_code == 200, exported.text
    (row,) = list(csv.DictReader(io.StringIO(exported.text)))
    assert row["event_type"] == "outage.created" and len(row["hash"]) == 64
    assert '"site_name":"Audited"' in row["data"]  # the row's data, as JSON text
    listed = (await api.get("/audit", owner, params={"event_type": "outage.created"})).json()
    assert listed["results"][0]["hash"] == row["hash"]
    as_json = (await api.get("/audit/export", owner, params={"format": "json"})).json()
    assert {r["event_type"] for r in as_json["rows"]} >= {"outage.created"}
    assert all(r["seq"] is not None for r in as_json["rows"])  # chained before it is read
