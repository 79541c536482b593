"""Requests are read as strictly as the document describes them: a date-time is a string with
an offset, an integer an integer, a boolean a boolean; a malformed body of any kind is 422;
a wrong method names every method of the path. Nothing is changed by a refused request."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import Api, Session
from tests.outages.conftest import new_outage


def _refused(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()["error"]
    assert body["code"] == "VALIDATION_ERROR"
    assert any(field in map(str, e["loc"]) for e in body["details"]["errors"]), body


@pytest.mark.parametrize("detected_at", [0, 253402300799, 1.5, True])
async def test_a_number_is_not_a_date_time(api: Api, owner: Session, detected_at: Any) -> None:
    body = {"site_name": "Tower", "severity": "critical", "detected_at": detected_at}
    _refused(await api.post("/outages", owner, json=body), "detected_at")
    assert (await api.get("/outages", owner)).json()["results"] == []


@pytest.mark.parametrize("mttr", [False, True, "5", 5.5])
async def test_an_integer_is_an_integer(api: Api, owner: Session, mttr: Any) -> None:
    outage = await new_outage(api, owner)
    response = await api.post(
        f"/outages/{outage['id']}/resolve", owner, json={"mttr_minutes": mttr}
    )
    _refused(response, "mttr_minutes")
    assert (await api.get(f"/outages/{outage['id']}", owner)).json()["status"] != "resolved"


@pytest.mark.parametrize("flag", [0.0, 0, "false"])
async def test_a_boolean_is_a_boolean(api: Api, owner: Session, flag: Any) -> None:
    _refused(
        await api.put("/faults/rules", owner, json={"auto_open_outages": flag}), "auto_open_outages"
    )
    rules = (await api.get("/faults/rules", owner)).json()
    assert rules["auto_open_outages"] is True


async def test_a_number_is_a_number(api: Api, owner: Session) -> None:
    policy = {"threshold_minutes": 15, "penalty_per_minute": "100", "reward_base": 750}
    _refused(await api.put("/sla/config/critical", owner, json=policy), "penalty_per_minute")
    location = {"latitude": "1.5", "longitude": 2}
    body = {"site_name": "Tower", "severity": "critical", "location": location}
    _refused(await api.post("/outages", owner, json=body), "latitude")


async def test_a_body_that_is_not_utf8_is_422_like_any_malformed_body(
    api: Api, owner: Session
) -> None:
    headers = {"Content-Type": "application/json"}
    for content in (b'{"site_name": "\xff\xfe"}', b"{not json"):
        response = await api.post("/outages", owner, content=content, headers=headers)
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == "VALIDATION_ERROR"


async def test_a_wrong_method_lists_every_method_of_the_path(api: Api, owner: Session) -> None:
    outage = await new_outage(api, owner)
    response = await api.delete(f"/outages/{outage['id']}", owner)
    assert response.status_code == 405
    allowed = {m.strip() for m in response.headers["allow"].split(",")}
    assert {"GET", "PATCH", "PUT"} <= allowed and "DELETE" not in allowed
    assert response.json()["error"]["code"] == "METHOD_NOT_ALLOWED"
