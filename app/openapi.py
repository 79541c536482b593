"""The OpenAPI document, completed so that generated clients, fuzzers and gateways can rely on
it: every status an operation can answer (errors in the envelope, 422 included), the
idempotency headers where they are honoured, the rate-limit and correlation headers, stable
operation ids, security on every operation (`[]` on public ones), and examples built from the
schemas that validate against them (tests/contract)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from app.core.idempotency import KEY_PATTERN
from app.faults.gateway import PATH as FAULT_GATEWAY_PATH
from app.faults.gateway_errors import CATALOG as GATEWAY_CATALOG
from app.openapi_meta import SERVERS, TAGS, document_info, operation_id

EXAMPLES: dict[str, Any] = {
    "email": "ops@example.com",
    "password": "Correct-Horse-42!",
    "new_password": "Battery-Staple-43!",
    "current_password": "Correct-Horse-42!",
    "site_name": "Cell Tower Alpha",
    "severity": "critical",
    "services_affected": ["4G", "5G"],
    "description": "Total signal loss",
    "mttr_minutes": 25,
    "reason": "MTTR started before the engineer was notified",
    "resolution": "accepted",
    "name": "NMS integration",
}
FORMAT_EXAMPLES = {
    "date-time": "2026-01-16T09:30:00Z",
    "date": "2026-01-16",
    "uri": "https://hooks.example.com/apex",
    "email": "ops@example.com",
    "stellar-public-key": "GDQP2KPQGKIHYJGXNUIYOMHARUARCA7DJT5FO2FFOOKY3B2WSQHG4W37",
    "password": "Correct-Horse-42!",
}
ERRORS = {
    "401": ("UNAUTHORIZED", "Missing, invalid or expired credentials."),
    "403": ("FORBIDDEN", "Your role does not allow this."),
    "404": ("NOT_FOUND", "Not found (or another organization's)."),
    "409": (
        "CONFLICT",
        "The request conflicts with the current state, or the same idempotency key is in flight.",
    ),
    "413": ("PAYLOAD_TOO_LARGE", "The request body is too large."),
    "422": ("VALIDATION_ERROR", "The request is not valid; `details.errors` says where."),
    "429": ("RATE_LIMIT_EXCEEDED", "Too many requests; see Retry-After."),
    "500": ("INTERNAL_SERVER_ERROR", "Something went wrong on our side."),
    "503": ("SERVICE_UNAVAILABLE", "A dependency does not answer; retry after Retry-After."),
}
WRITES = {"post", "put", "patch", "delete"}
# Public operations that still check a credential of their own (a password, a refresh or
# reset token, a share token), and what else they answer.
PUBLIC_STATUSES: dict[str, list[str]] = {
    "register": ["409"],
    "login": ["401"],
    "refresh_tokens": ["401"],
    "reset_password": ["401"],
    "list_shared_faults": ["401", "403"],
}
_HEADER = {"schema": {"type": "string"}}
SUCCESS_HEADERS = {
    "X-Correlation-ID": {
        "description": "The request's correlation id (yours when you sent one).",
        **_HEADER,
    },
    "X-RateLimit-Limit": {"description": "Requests allowed in the window.", **_HEADER},
    "X-RateLimit-Remaining": {"description": "Requests left in the window.", **_HEADER},
    "X-RateLimit-Reset": {"description": "Seconds until the window resets.", **_HEADER},
}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before retrying.", **_HEADER}}
IDEMPOTENCY_HEADERS = [
    {
        "name": name,
        "in": "header",
        "required": False,
        "description": (
            "Makes a retry of this request safe: the first answer is stored and replayed "
            "(`Idempotent-Replayed: true`) for 24 h; the same key with another request is 422. "
            "Send one of the two headers (with both, `Idempotency-Key` is used)."
        ),
        "schema": {"type": "string", "pattern": KEY_PATTERN, "maxLength": 255},
    }
    for name in ("Idempotency-Key", "X-Idempotency-Key")
]


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref:
        return _resolve(spec, spec["components"]["schemas"][ref.split("/")[-1]])
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"]
            return _resolve(spec, options[0]) if options else {}
    return schema


def _fits(schema: dict[str, Any], value: Any) -> bool:
    """A named example is used only where the schema admits it (fault severities are upper
    case, outage severities lower case)."""
    if "enum" in schema:
        return value in schema["enum"]
    return True


def example(spec: dict[str, Any], schema: dict[str, Any], name: str = "", depth: int = 0) -> Any:
    """A plausible value for `schema`: named examples first, then the schema's own."""
    schema = _resolve(spec, schema)
    if name in EXAMPLES and _fits(schema, EXAMPLES[name]):
        return EXAMPLES[name]
    if "example" in schema:
        return schema["example"]
    if schema.get("examples"):
        return schema["examples"][0]
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
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
    if schema.get("format") in FORMAT_EXAMPLES:
        return FORMAT_EXAMPLES[schema["format"]]
    text = "example-" + (name or "value")
    minimum, maximum = schema.get("minLength", 0), schema.get("maxLength", len(text))
    return text.ljust(minimum, "x")[: max(minimum, maximum)]


def _error(code: str, message: str, status: str) -> dict[str, Any]:
    response: dict[str, Any] = {
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
    if status in ("429", "503"):
        response["headers"] = RETRY_AFTER
    return response


ENVELOPE = {
    "type": "object",
    "title": "ErrorEnvelope",
    "description": "Every error the API answers.",
    "properties": {
        "error": {"$ref": "#/components/schemas/ErrorBody"},
    },
    "required": ["error"],
}
ERROR_BODY = {
    "type": "object",
    "title": "ErrorBody",
    "properties": {
        "code": {"type": "string", "description": "Stable machine-readable code."},
        "message": {"type": "string"},
        "details": {"type": "object", "additionalProperties": True},
        "timestamp": {"type": "string", "format": "date-time"},
        "correlation_id": {"type": "string"},
    },
    "required": ["code", "message", "details", "timestamp", "correlation_id"],
}


GATEWAY_ERROR = {
    "type": "object",
    "title": "GatewayError",
    "description": "Every error of the fault gateway (`/fault`); `doc_url` explains the code.",
    "properties": {
        "type": {"type": "string", "enum": sorted({e.type for e in GATEWAY_CATALOG.values()})},
        "code": {"type": "string", "enum": list(GATEWAY_CATALOG)},
        "message": {"type": "string"},
        "doc_url": {"type": "string", "format": "uri"},
    },
    "required": ["type", "code", "message", "doc_url"],
}
# The gateway's statuses and the code each example shows (400 stands for 422 there).
_GATEWAY_STATUSES = {
    "400": "parameter_missing",
    "401": "api_key_invalid",
    "403": "permission_denied",
    "409": "request_conflict",
    "413": "request_too_large",
    "429": "rate_limit_exceeded",
    "500": "internal_server_error",
    "503": "service_unavailable",
}


def _gateway_errors(method: str, op: dict[str, Any]) -> None:
    responses = op.setdefault("responses", {})
    responses.pop("422", None)
    for status, code in _GATEWAY_STATUSES.items():
        if status in ("409", "413") and method != "post":
            continue
        entry = GATEWAY_CATALOG[code]
        message = "The 'message' parameter is required for this request."
        response: dict[str, Any] = {
            "description": entry.summary,
            "content": {
                "application/json": {
                    "schema": {"$ref": "#/components/schemas/GatewayError"},
                    "example": {
                        "type": entry.type,
                        "code": code,
                        "message": message if code == "parameter_missing" else entry.summary,
                        "doc_url": f"https://apexchainx.example/docs/errors/{code}",
                    },
                }
            },
        }
        if status in ("429", "503"):
            response["headers"] = RETRY_AFTER
        responses[status] = response


def _statuses(path: str, method: str, op: dict[str, Any]) -> list[str]:
    wanted = ["429", "500", "503"]
    secured = bool(op.get("security"))
    if secured:
        wanted += ["401", "403"]
    wanted += PUBLIC_STATUSES.get(op["operationId"], [])
    # A path parameter, or a body naming another resource (an outage, a result, a user...).
    if "{" in path or (secured and method == "post" and op.get("requestBody")):
        wanted.append("404")
    if op.get("parameters") or op.get("requestBody"):
        wanted.append("422")
    if op.get("requestBody"):
        wanted.append("413")
    if method in WRITES and secured:
        wanted.append("409")
    return wanted


def _complete(
    spec: dict[str, Any], path: str, method: str, op: dict[str, Any], gateway: bool
) -> None:
    responses = op.setdefault("responses", {})
    if method == "post" and op.get("security"):
        op["parameters"] = [*op.get("parameters", []), *IDEMPOTENCY_HEADERS]
    for status in [] if gateway else _statuses(path, method, op):
        declared = responses.get(status, {})
        schema = declared.get("content", {}).get("application/json", {}).get("schema", {})
        if schema.get("$ref", "").endswith(("/ReadinessFailureOut",)):
            continue  # a route that answers this status with a body of its own says so
        error = _error(*ERRORS[status], status)
        # FastAPI's own 422 (`HTTPValidationError`) is not what the API answers.
        if declared.get("description") and status not in ("422", "429", "503"):
            error["description"] = declared["description"]
        responses[status] = error
    if gateway:
        _gateway_errors(method, op)
    body = op.get("requestBody", {}).get("content", {}).get("application/json")
    if body is not None and "example" not in body:
        body["example"] = example(spec, body["schema"])
    for status, response in responses.items():
        if not status.startswith("2"):
            continue
        response.setdefault("headers", {}).update(SUCCESS_HEADERS)
        content = response.get("content", {}).get("application/json")
        if content and content.get("schema", {}).get("title", "").startswith("Response "):
            del content["schema"]["title"]  # FastAPI's "Response Get Timeline Api V1 ..."
        if content and "example" not in content and content.get("schema"):
            content["example"] = example(spec, content["schema"])


SECURITY_SCHEMES = {
    "HTTPBearer": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "Access token from `POST /auth/login`.",
    },
    "CookieSession": {
        "type": "apiKey",
        "in": "cookie",
        "name": "apex_access",
        "description": "A browser's session cookie, set by `POST /auth/login` with "
        "`cookies: true`; an unsafe request must come from this site.",
    },
    "APIKeyHeader": {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "Machine client key (intake routes); also accepted as "
        "`Authorization: Bearer <key>`.",
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


def _name_and_secure(app: FastAPI, spec: dict[str, Any]) -> None:
    """Each operation's id and security, from its route: a Bearer token, `X-API-Key` where
    the route admits machine clients (its `RequireRole` reads the credentials itself), and
    `security: []` where no credential is asked."""
    spec["components"]["securitySchemes"] = SECURITY_SCHEMES
    taken: set[str] = set()
    for context in iter_route_contexts(app.routes):
        route = context.route
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        guard = _guard_of(route.dependant)
        security: list[dict[str, list[str]]] = []
        if guard is not None:
            security.append({"HTTPBearer": []})
            security.append({"CookieSession": []})
            if guard.api_key:
                security.append({"APIKeyHeader": []})
        for method in sorted(route.methods or ()):
            operation = spec["paths"].get(context.path, {}).get(method.lower())
            if operation is None:
                continue
            operation["security"] = security
            operation["operationId"] = operation_id(
                route.name, context.path or route.path, app.state.settings.api_v1_prefix, taken
            )
            taken.add(operation["operationId"])


def _drop_framework_schemas(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)


def install(app: FastAPI) -> None:
    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        spec = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            tags=TAGS,
            servers=SERVERS,
        )
        spec["info"] = document_info(spec["info"])
        schemas = spec.setdefault("components", {}).setdefault("schemas", {})
        schemas["ErrorEnvelope"], schemas["ErrorBody"] = ENVELOPE, ERROR_BODY
        schemas["GatewayError"] = GATEWAY_ERROR
        _name_and_secure(app, spec)
        gateway = app.state.settings.api_v1_prefix + FAULT_GATEWAY_PATH
        for path, operations in spec.get("paths", {}).items():
            for method, op in operations.items():
                _complete(spec, path, method, op, path == gateway)
        _drop_framework_schemas(spec)
        app.openapi_schema = spec
        return spec

    app.openapi = build  # type: ignore[method-assign]
