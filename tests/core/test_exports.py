"""Exports over HTTP (issue 26 A.5): streamed CSV and JSON, filtered like their lists,
formula-safe, one organization's rows only."""

from __future__ import annotations

import csv
import io
from typing import Any

from tests.helpers import Api, assert_error
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
