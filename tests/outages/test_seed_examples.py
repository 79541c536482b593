"""The ApexChainX seed's own example requests, sent unchanged (issue 17)."""

from __future__ import annotations

from tests.helpers import Api

# "Create a new outage record", as the seed documents it.
SEED_CREATE = {
    "site_name": "Cell Tower Beta",
    "site_id": "SITE456",
    "severity": "high",
    "description": "Intermittent service degradation",
    "affected_services": ["4G"],
    "affected_subscribers": 500,
    "location": {"latitude": 9.082, "longitude": 8.675},
    "assigned_to": "user123",
}


async def test_the_seeds_create_example_gets_the_seeds_answer(api: Api) -> None:
    owner = await api.owner()
    created = await api.post("/outages", owner, json=SEED_CREATE)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["message"] == "Outage created successfully"
    assert body["site_name"] == "Cell Tower Beta" and body["id"].startswith("out_")
    assert body["detected_at"].endswith("Z") and body["status"] == "open"
    assert body["services_affected"] == ["4G"] and body["affected_subscribers"] == 500
