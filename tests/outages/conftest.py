from typing import Any

import pytest

from tests.helpers import Api, Session


@pytest.fixture
async def owner(api: Api) -> Session:
    return await api.owner()


@pytest.fixture
async def engineer(api: Api, owner: Session) -> Session:
    return await api.member(owner, "engineer")


async def new_outage(api: Api, session: Session, **fields: Any) -> dict[str, Any]:
    body = {
        "site_name": "Cell Tower Alpha",
        "severity": "critical",
        "description": "Total signal loss",
        **fields,
    }
    if "affected_services" not in body:  # the input alias; both at once is refused
        body.setdefault("services_affected", ["4G", "5G"])
    response = await api.post("/outages", session, json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())
