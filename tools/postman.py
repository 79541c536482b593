"""Generates the Postman collection and environment from the application's live OpenAPI.

    make postman   ->  postman/ApexChainX-API.json, postman/ApexChainX.postman_environment.json

Every route becomes a request (one folder per tag) with an example body built from its schema;
"Log in" stores the access token in the environment, and every other request sends it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.config import Settings  # noqa: E402
from app.main import create_app  # noqa: E402
from app.openapi import example  # noqa: E402

LOGIN_SCRIPT = [
    "const body = pm.response.json();",
    "if (body.access_token) {",
    "  pm.environment.set('accessToken', body.access_token);",
    "  pm.environment.set('refreshToken', body.refresh_token);",
    "}",
]


def _request(spec: dict[str, Any], path: str, method: str, op: dict[str, Any]) -> dict[str, Any]:
    url_path = path.replace("{", "{{").replace("}", "}}")
    headers = [{"key": "Content-Type", "value": "application/json"}]
    request: dict[str, Any] = {
        "method": method.upper(),
        "header": headers,
        "url": {
            "raw": "{{baseUrl}}" + url_path,
            "host": ["{{baseUrl}}"],
            "path": [p for p in url_path.split("/") if p],
        },
        "description": op.get("description", ""),
    }
    if op.get("security"):
        request["auth"] = {
            "type": "bearer",
            "bearer": [{"key": "token", "value": "{{accessToken}}", "type": "string"}],
        }
    else:
        request["auth"] = {"type": "noauth"}
    body = op.get("requestBody", {}).get("content", {}).get("application/json")
    if body:
        request["body"] = {
            "mode": "raw",
            "raw": json.dumps(example(spec, body["schema"]), indent=2),
            "options": {"raw": {"language": "json"}},
        }
    item: dict[str, Any] = {
        "name": op.get("summary", f"{method.upper()} {path}"),
        "request": request,
    }
    if path.endswith("/auth/login"):
        item["name"] = "Log in"
        item["event"] = [
            {"listen": "test", "script": {"type": "text/javascript", "exec": LOGIN_SCRIPT}}
        ]
    return item


# Run after every request (newman in CI): whatever the example body, never a server error.
NO_SERVER_ERROR = [
    "pm.test('no server error', function () {",
    "  pm.expect(pm.response.code, pm.request.method + ' ' + pm.request.url).to.be.below(500);",
    "});",
]
# Requests that end the session run last, so the rest of a run stays logged in.
LAST = ("/auth/logout", "/auth/logout-all", "/auth/sessions/{session_id}")


def _is_stream(op: dict[str, Any]) -> bool:
    content = op.get("responses", {}).get("200", {}).get("content", {})
    return "text/event-stream" in content


def build(spec: dict[str, Any]) -> dict[str, Any]:
    folders: dict[str, list[dict[str, Any]]] = {}
    closing: list[dict[str, Any]] = []
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            if _is_stream(op):
                continue  # an event stream stays open: no request/response tool can run it
            tag = (op.get("tags") or ["Other"])[0]
            item = _request(spec, path, method, op)
            if path.endswith(LAST):
                closing.append(item)
            else:
                folders.setdefault(tag, []).append(item)
    if closing:
        folders["Session end"] = closing
    return {
        "info": {
            "name": "ApexChainX API",
            "description": spec["info"].get("description", ""),
            "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
        },
        "item": [{"name": tag, "item": items} for tag, items in folders.items()],
        "event": [
            {"listen": "test", "script": {"type": "text/javascript", "exec": NO_SERVER_ERROR}}
        ],
        "variable": [{"key": "baseUrl", "value": "http://127.0.0.1:8000"}],
    }


def environment() -> dict[str, Any]:
    return {
        "name": "ApexChainX local",
        "values": [
            {"key": "baseUrl", "value": "http://127.0.0.1:8000", "enabled": True},
            {"key": "accessToken", "value": "", "enabled": True},
            {"key": "refreshToken", "value": "", "enabled": True},
        ],
    }


def main() -> None:
    spec = create_app(Settings(), run_inline_executor=False).openapi()
    out = ROOT / "postman"
    out.mkdir(exist_ok=True)
    (out / "ApexChainX-API.json").write_text(json.dumps(build(spec), indent=2) + "\n")
    (out / "ApexChainX.postman_environment.json").write_text(
        json.dumps(environment(), indent=2) + "\n"
    )
    print(f"wrote {out / 'ApexChainX-API.json'}")


if __name__ == "__main__":
    main()
