"""The OpenAPI document, completed for Swagger UI and Postman: every operation gets example
request and response bodies built from its schemas, and the error responses it can give, in
the error envelope."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

EXAMPLES: dict[str, Any] = {
    "email": "ops@example.com",
    "password": "Correct-Horse-42!",
    "site_name": "Cell Tower Alpha",
    "severity": "critical",
    "services_affected": ["4G", "5G"],
    "description": "Total signal loss",
    "mttr_minutes": 25,
    "reason": "MTTR started before the engineer was notified",
    "resolution": "accepted",
    "name": "NMS integration",
}
ERRORS = {
    "401": ("UNAUTHORIZED", "Missing, invalid or expired credentials."),
    "403": ("FORBIDDEN", "Your role does not allow this."),
    "404": ("NOT_FOUND", "Not found (or another organization's)."),
    "409": ("CONFLICT", "The request conflicts with the current state."),
    "422": ("VALIDATION_ERROR", "The request is not valid."),
    "429": ("RATE_LIMIT_EXCEEDED", "Too many requests; see Retry-After."),
    "500": ("INTERNAL_SERVER_ERROR", "Something went wrong on our side."),
}
WRITES = {"post", "put", "patch", "delete"}


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref:
        return _resolve(spec, spec["components"]["schemas"][ref.split("/")[-1]])
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"]
            return _resolve(spec, options[0]) if options else {}
    return schema


def example(spec: dict[str, Any], schema: dict[str, Any], name: str = "", depth: int = 0) -> Any:
    """A plausible value for `schema`: named examples first, then the schema's own."""
    if name in EXAMPLES:
        return EXAMPLES[name]
    schema = _resolve(spec, schema)
    if "example" in schema:
        return schema["example"]
    if schema.get("examples"):
        return schema["examples"][0]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if depth > 6:
        return None
    if kind == "object" or "properties" in schema:
        required = set(schema.get("required", []))
        return {
            key: example(spec, value, key, depth + 1)
            for key, value in schema.get("properties", {}).items()
            if key in required or key in EXAMPLES
        }
    if kind == "array":
        return [example(spec, schema.get("items", {}), name, depth + 1)]
    if kind == "integer":
        return max(1, int(schema.get("minimum", 1)))
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return False
    if schema.get("format") == "date-time":
        return "2026-01-16T09:30:00Z"
    return "string"


def _error(code: str, message: str) -> dict[str, Any]:
    return {
        "description": message,
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/ErrorEnvelope"},
                "example": {
                    "error": {
                        "code": code,
                        "message": message,
                        "details": {},
                        "timestamp": "2026-01-16T09:30:00Z",
                        "correlation_id": "3f1c2a9e-6d0b-4c1e-9b7a-2f4e8d1c0a55",
                    }
                },
            }
        },
    }


ENVELOPE = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "object"},
                "timestamp": {"type": "string", "format": "date-time"},
                "correlation_id": {"type": "string"},
            },
            "required": ["code", "message", "details", "timestamp", "correlation_id"],
        }
    },
    "required": ["error"],
}


def _complete(spec: dict[str, Any], path: str, method: str, op: dict[str, Any]) -> None:
    responses = op.setdefault("responses", {})
    wanted = ["429", "500"]
    if op.get("security"):
        wanted += ["401", "403"]
    if "{" in path:
        wanted.append("404")
    if op.get("parameters") or op.get("requestBody"):
        wanted.append("422")
    if method in WRITES and "{" in path:
        wanted.append("409")
    for code in wanted:
        if code not in responses or "content" not in responses[code]:
            responses[code] = _error(*ERRORS[code])
    body = op.get("requestBody", {}).get("content", {}).get("application/json")
    if body is not None and "example" not in body:
        body["example"] = example(spec, body["schema"])
    for code, response in responses.items():
        content = response.get("content", {}).get("application/json")
        if code.startswith("2") and content and "example" not in content and content.get("schema"):
            content["example"] = example(spec, content["schema"])


SECURITY_SCHEMES = {
    "HTTPBearer": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "Access token from `POST /auth/login`.",
    },
    "APIKeyHeader": {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "Machine client key (intake routes).",
    },
}


def _guard_of(dependant: Any) -> Any:
    for sub in dependant.dependencies:
        if getattr(sub.call, "authorization", False):
            return sub.call
        found = _guard_of(sub)
        if found is not None:
            return found
    return None


def _declare_security(app: FastAPI, spec: dict[str, Any]) -> None:
    """Each operation's security, from its `RequireRole` (which reads the credentials itself):
    a Bearer token, and `X-API-Key` where the route admits machine clients."""
    spec["components"]["securitySchemes"] = SECURITY_SCHEMES
    for context in iter_route_contexts(app.routes):
        route = context.route
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        guard = _guard_of(route.dependant)
        if guard is None:
            continue
        security: list[dict[str, list[str]]] = [{"HTTPBearer": []}]
        if guard.api_key:
            security.append({"APIKeyHeader": []})
        for method in route.methods or ():
            operation = spec["paths"].get(context.path, {}).get(method.lower())
            if operation is not None:
                operation["security"] = security


def install(app: FastAPI) -> None:
    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        spec = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        spec.setdefault("components", {}).setdefault("schemas", {})["ErrorEnvelope"] = ENVELOPE
        _declare_security(app, spec)
        for path, operations in spec.get("paths", {}).items():
            for method, op in operations.items():
                _complete(spec, path, method, op)
        app.openapi_schema = spec
        return spec

    app.openapi = build  # type: ignore[method-assign]
