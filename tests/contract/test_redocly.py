"""Redocly CLI (pinned in tools/redocly, installed by `make contract-tools`) lints the
document with its recommended rules: no errors."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.helpers import make_app
from tests.live import ROOT

pytestmark = pytest.mark.live  # starts processes (CLI, migrations, tools)

REDOCLY = ROOT / "tools" / "redocly" / "node_modules" / ".bin" / "redocly"


def test_redocly_recommended_rules_find_no_error(tmp_path: Path) -> None:
    assert REDOCLY.exists(), "run `make contract-tools` (npm ci in tools/redocly)"
    document = tmp_path / "openapi.json"
    document.write_text(json.dumps(make_app().openapi()))
    run = subprocess.run(
        [str(REDOCLY), "lint", str(document), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"},
    )
    report = json.loads(run.stdout[run.stdout.index("{") :])
    errors = [p for p in report["problems"] if p["severity"] == "error"]
    assert errors == [], json.dumps(errors, indent=1)[:4000]
