"""The OpenAPI document as generated clients, fuzzers and gateways read it: what it promises
is what the server does, and nothing in it contradicts itself."""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from typing import Any

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.helpers import make_app

GATEWAY_ERROR = {"$ref": "#/components/schemas/GatewayError"}
ENVELOPE = {"$ref": "#/components/schemas/ErrorEnvelope"}


@cache
def _spec() -> dict[str, Any]:
    return dict(make_app().openapi())


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [(m, p, op) for p, ops in _spec()["paths"].items() for m, op in ops.items()]


def _pointer(*parts: str) -> str:
    return "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


def _examples() -> list[tuple[str, str, Any]]:
    """Each example with the JSON pointer of its schema inside the document."""
    found = []
    for method, path, op in _operations():
        where = f"{method.upper()} {path}"
        base = ("paths", path, method)
        body = op.get("requestBody", {}).get("content", {}).get("application/json")
        if body and "example" in body:
            pointer = _pointer(*base, "requestBody", "content", "application/json", "schema")
            found.append((f"{where} request", pointer, body["example"]))
        for status, response in op["responses"].items():
            content = response.get("content", {}).get("application/json")
            if content and "example" in content:
                pointer = _pointer(*base, "responses", status, "content", "application/json")
                found.append((f"{where} {status}", pointer + "/schema", content["example"]))
        for index, parameter in enumerate(op.get("parameters", [])):
            if "example" in parameter:
                pointer = _pointer(*base, "parameters", str(index), "schema")
                found.append((f"{where} {parameter['name']}", pointer, parameter["example"]))
    return found


def _validator(pointer: str) -> jsonschema.Draft202012Validator:
    """A validator for the schema at `pointer`, resolving the document's own references."""
    document = Resource.from_contents(_spec(), default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource("urn:openapi", document)
    return jsonschema.Draft202012Validator(
        {"$ref": f"urn:openapi#/{pointer}"},
        registry=registry,
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    )


def test_every_example_validates_against_its_schema() -> None:
    """What Swagger UI's "Try it out" fills in is a request the API accepts."""
    wrong = []
    for where, pointer, example in _examples():
        errors = list(_validator(pointer).iter_errors(example))
        if errors:
            wrong.append(f"{where}: {errors[0].message}")
    assert wrong == []


def test_every_error_is_declared_in_the_envelope_including_422() -> None:
    for method, path, op in _operations():
        gateway = path == "/api/v1/fault"
        for status, response in op["responses"].items():
            if path.endswith(("/health/ready", "/health/readiness")) and status == "503":
                continue  # readiness answers its checks, as load balancers read them
            if status[0] in "45":
                content = response["content"]["application/json"]
                expected = GATEWAY_ERROR if gateway else ENVELOPE
                assert content["schema"] == expected, f"{method.upper()} {path} {status}"
        if gateway:  # seed 000's form: 400 where the rest of the API answers 422
            assert "400" in op["responses"] and "422" not in op["responses"]
    assert "HTTPValidationError" not in _spec()["components"]["schemas"]


def test_idempotency_headers_are_declared_where_they_are_honoured() -> None:
    for method, path, op in _operations():
        names = {p["name"] for p in op.get("parameters", []) if p["in"] == "header"}
        honoured = method == "post" and bool(op["security"])
        assert ({"Idempotency-Key", "X-Idempotency-Key"} <= names) == honoured, path
        if honoured:
            assert "409" in op["responses"], path


def test_operation_ids_are_readable_and_unique_and_security_is_explicit() -> None:
    ids = [op["operationId"] for _, _, op in _operations()]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", i) and "api_v1" not in i for i in ids), ids
    assert {"create_outage", "list_outages", "resolve_outage", "create_faults_batch"} <= set(ids)
    for method, path, op in _operations():
        assert "security" in op, f"{method.upper()} {path}"
    public = {op["operationId"] for _, _, op in _operations() if op["security"] == []}
    assert {"login", "register", "health"} <= public


def test_component_names_and_titles_are_unique_and_readable() -> None:
    schemas = _spec()["components"]["schemas"]
    titles = Counter(s.get("title", name) for name, s in schemas.items())
    assert [t for t, n in titles.items() if n > 1] == []
    assert [n for n in schemas if "__" in n or "Api V1" in n or len(n) > 40] == []


def test_every_timestamp_is_a_date_time() -> None:
    def walk(name: str, schema: dict[str, Any]) -> list[str]:
        missing = []
        for key, prop in schema.get("properties", {}).items():
            options = prop.get("anyOf", [prop])
            strings = [o for o in options if o.get("type") == "string"]
            if key.endswith("_at") and strings and not all("format" in o for o in strings):
                missing.append(f"{name}.{key}")
        return missing

    schemas = _spec()["components"]["schemas"]
    assert [m for name, s in schemas.items() for m in walk(name, s)] == []


def test_the_document_names_its_servers_tags_contact_and_licence() -> None:
    spec = _spec()
    assert spec["servers"] and spec["info"]["contact"] and spec["info"]["license"]
    declared = {t["name"] for t in spec["tags"]}
    used = {t for _, _, op in _operations() for t in op.get("tags", [])}
    assert used <= declared and all(t.get("description") for t in spec["tags"])


def test_closed_sets_in_responses_are_enums() -> None:
    schemas = _spec()["components"]["schemas"]

    def enum_of(model: str, field: str) -> list[str]:
        prop = schemas[model]["properties"][field]
        target = prop.get("$ref") or next(
            (o.get("$ref") for o in prop.get("anyOf", []) if "$ref" in o), None
        )
        return list((schemas[target.split("/")[-1]] if target else prop)["enum"])

    assert enum_of("OutageOut", "severity") == ["critical", "high", "medium", "low"]
    assert "resolved" in enum_of("OutageOut", "status")
    assert set(enum_of("SlaResultOut", "outcome")) == {"penalty", "reward", "none"}
    assert "confirmed" in enum_of("PaymentOut", "status")
    assert set(enum_of("PaymentOut", "type")) == {"reward", "penalty"}


def test_no_constraint_is_left_out_of_the_json_schema() -> None:
    """A pydantic constraint applied after a validator is enforced but written as a raw key
    (`ge`, `max_length`...), which no tool reads: the schema would promise less than the
    server checks."""
    leftovers: list[str] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            raw = {"ge", "le", "gt", "lt", "max_length", "min_length", "max_digits"} & node.keys()
            if raw and not where.endswith("/properties"):
                leftovers.append(f"{where}: {sorted(raw)}")
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for value in node:
                walk(value, where)

    walk(_spec(), "")
    assert leftovers == []
