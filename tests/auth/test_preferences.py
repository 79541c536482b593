"""Per-person preferences (issue 26 A.3): validated, replaced whole, one account's own."""

from __future__ import annotations

from tests.helpers import Api, assert_error

SAVED = {
    "time_zone": "Africa/Lagos",
    "language": "en-GB",
    "default_filters": {"outages": {"status": "open", "severity": "critical"}},
    "notifications": {"email": True, "in_app": True, "events": ["outage.created", "sla.violated"]},
    "ui": {"tableDensity": "compact", "columnVisibility": {"region": False}},
}


async def test_defaults_then_a_saved_document_read_back(api: Api) -> None:
    owner = await api.owner()
    first = await api.get("/users/me/preferences", owner)
    assert first.status_code == 200, first.text
    assert first.json()["time_zone"] == "UTC" and first.json()["language"] == "en"
    saved = await api.put("/users/me/preferences", owner, json=SAVED)
    assert saved.status_code == 200, saved.text
    read = (await api.get("/users/me/preferences", owner)).json()
    assert read["time_zone"] == "Africa/Lagos" and read["ui"] == SAVED["ui"]
    assert read["notifications"]["events"] == ["outage.created", "sla.violated"]
    # PUT replaces the document: what is left out returns to its default.
    await api.put("/users/me/preferences", owner, json={"language": "fr"})
    read = (await api.get("/users/me/preferences", owner)).json()
    assert (read["language"], read["time_zone"], read["ui"]) == ("fr", "UTC", {})


async def test_invalid_documents_are_422_and_change_nothing(api: Api) -> None:
    owner = await api.owner()
    await api.put("/users/me/preferences", owner, json=SAVED)
    for bad in (
        {"time_zone": "Mars/Olympus"},
        {"language": "english"},
        {"default_filters": {"planets": {}}},
        {"notifications": {"events": ["outage.exploded"]}},
        {"ui": {"blob": "x" * 20_000}},
        {"ui": {"huge": 55482316118740262912}},  # past 64 bits: was a 500 (the fuzzer)
        {"colour": "red"},
    ):
        refused = await api.put("/users/me/preferences", owner, json=bad)
        assert_error(refused, 422, "VALIDATION_ERROR")
    assert (await api.get("/users/me/preferences", owner)).json()["time_zone"] == "Africa/Lagos"


async def test_each_person_has_their_own(api: Api) -> None:
    owner = await api.owner()
    viewer = await api.member(owner, "viewer")
    await api.put("/users/me/preferences", owner, json=SAVED)
    assert (await api.get("/users/me/preferences", viewer)).json()["time_zone"] == "UTC"
    assert (await api.put("/users/me/preferences", viewer, json=SAVED)).status_code == 200
    assert_error(await api.get("/users/me/preferences"), 401, "UNAUTHORIZED")
