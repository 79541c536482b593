"""The committed Postman collection covers every route of the live OpenAPI (`make postman`
regenerates it)."""

import json
from pathlib import Path

from tests.helpers import make_app

ROOT = Path(__file__).resolve().parent.parent


def _is_stream(op: dict[str, object]) -> bool:
    responses = op.get("responses")
    ok = responses.get("200", {}) if isinstance(responses, dict) else {}
    return "text/event-stream" in ok.get("content", {})


def test_the_collection_has_a_request_for_every_operation() -> None:
    spec = make_app().openapi()
    collection = json.loads((ROOT / "postman" / "ApexChainX-API.json").read_text())
    requests = {
        (item["request"]["method"], item["request"]["url"]["raw"].replace("{{baseUrl}}", ""))
        for folder in collection["item"]
        for item in folder["item"]
    }
    operations = {
        (method.upper(), path.replace("{", "{{").replace("}", "}}"))
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
        if not _is_stream(op)  # an event stream has no place in a request/response collection
    }
    missing = operations - requests
    assert not missing, f"run `make postman`: missing {sorted(missing)}"
    login = [
        item for folder in collection["item"] for item in folder["item"] if item["name"] == "Log in"
    ]
    assert "accessToken" in "".join(login[0]["event"][0]["script"]["exec"])
