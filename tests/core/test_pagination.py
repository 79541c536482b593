from typing import Any

import pytest

from tests.helpers import assert_error


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": -5}, {"limit": 201}, {"offset": -1}, {"limit": "ten"}]
)
async def test_out_of_range_paging_is_422(api: Any, params: dict[str, Any]) -> None:
    owner = await api.owner()
    assert_error(await api.get("/audit", owner, params=params), 422, "VALIDATION_ERROR")


async def test_offset_pages_carry_the_contract_fields(api: Any) -> None:
    owner = await api.owner()
    for _ in range(4):
        await api.login(owner.email)  # each login writes an audit row
    first = (await api.get("/audit", owner, params={"limit": 2})).json()
    assert first["total"] == 7  # organization.created, user.registered, 5 logins
    assert (first["limit"], first["offset"], first["has_next"], first["has_previous"]) == (
        2,
        0,
        True,
        False,
    )
    assert first["next_offset"] == 2 and first["previous_offset"] is None
    last = (await api.get("/audit", owner, params={"limit": 2, "offset": 6})).json()
    assert len(last["results"]) == 1
    assert last["has_next"] is False and last["has_previous"] is True
    assert last["previous_offset"] == 4


async def test_cursor_walks_every_row_once(api: Any) -> None:
    owner = await api.owner()
    for _ in range(4):
        await api.login(owner.email)
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 3}
    while True:
        page = (await api.get("/audit", owner, params=params)).json()
        seen += [row["id"] for row in page["results"]]
        if not page["next_cursor"]:
            break
        params = {"limit": 3, "cursor": page["next_cursor"]}
    assert len(seen) == 7 and len(set(seen)) == 7
    assert seen == sorted(seen, reverse=True)


async def test_a_forged_cursor_is_422(api: Any) -> None:
    owner = await api.owner()
    response = await api.get("/audit", owner, params={"cursor": "!!!not-base64"})
    assert_error(response, 422, "VALIDATION_ERROR")
