"""The Postman collection, run by newman (npm) against a real server on SQLite: every request
with its example body, logged in by the collection's own login request, and no answer is a
server error."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests import templates
from tests.live import live_server

pytestmark = pytest.mark.live

ROOT = Path(__file__).resolve().parent.parent
NEWMAN = ROOT / "tools" / "newman" / "node_modules" / ".bin" / "newman"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> object:
    env = {
        "DATABASE_URL": templates.copy_sqlite(tmp_path_factory.mktemp("newman")),
        "REDIS_URL": "",
        "ENVIRONMENT": "development",
        "RATE_LIMIT_ENABLED": "false",
    }
    with live_server(env) as base:
        yield base


def test_the_collection_runs_without_a_server_error(server: str, tmp_path: Path) -> None:
    assert NEWMAN.exists(), "run `make newman` (npm install in tools/newman)"
    report = tmp_path / "newman.json"
    result = subprocess.run(
        [
            str(NEWMAN),
            "run",
            str(ROOT / "postman" / "ApexChainX-API.json"),
            "--environment",
            str(ROOT / "postman" / "ApexChainX.postman_environment.json"),
            "--env-var",
            f"baseUrl={server}",
            "--reporters",
            "cli,json",
            "--reporter-json-export",
            str(report),
            "--timeout-request",
            "30000",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    run = json.loads(report.read_text())["run"]
    assert result.returncode == 0, result.stdout[-4000:]
    assert run["stats"]["assertions"]["failed"] == 0
    collection = json.loads((ROOT / "postman" / "ApexChainX-API.json").read_text())
    every = sum(len(folder["item"]) for folder in collection["item"])
    assert run["stats"]["requests"]["total"] == every
    # The login request stored a token, so the authenticated requests really ran as a user.
    codes = [e["response"]["code"] for e in run["executions"] if "response" in e]
    assert codes.count(401) < len(codes) // 4
