"""The `apexchainx` command against a fresh SQLite file, as an operator would run it."""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.live  # starts processes (CLI, migrations, tools)

ROOT = Path(__file__).resolve().parent.parent


def cli(database: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from app.cli import main; main()", *args],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{database}", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_migrate_seed_export_and_create_admin(tmp_path: Path) -> None:
    database = tmp_path / "cli.db"
    assert cli(database, "migrate").returncode == 0
    seeded = cli(database, "seed-demo", "--days", "10")
    assert seeded.returncode == 0, seeded.stderr
    assert "outages created" in seeded.stdout and "admin@demo.apexchainx.dev" in seeded.stdout
    with sqlite3.connect(database) as db:
        organization = db.execute("SELECT organization_id FROM users").fetchone()[0]
        statuses = dict(db.execute("SELECT status, count(*) FROM payments GROUP BY status"))
        faults = db.execute("SELECT count(*) FROM faults").fetchone()[0]
    assert statuses.get("confirmed", 0) > 0 and faults > 0  # payouts ran on the local ledger
    again = cli(database, "seed-demo", "--days", "10")
    assert "0 outages created" in again.stdout  # only once

    exported = cli(database, "export", organization, "--what", "outages")
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert rows and {"id", "site_name", "severity", "mttr_minutes"} <= set(rows[0])
    as_json = json.loads(
        cli(database, "export", organization, "--what", "payments", "--format", "json").stdout
    )
    assert {p["status"] for p in as_json} >= {"confirmed"}
    assert cli(database, "export", organization, "--what", "secrets").returncode != 0

    made = cli(
        database,
        "create-admin",
        "boss@example.com",
        "--organization",
        "Acme",
        APEXCHAINX_ADMIN_PASSWORD="Correct-Horse-42!",
    )
    assert made.returncode == 0 and "Correct-Horse-42!" not in made.stdout + made.stderr
    refused = cli(database, "create-admin", "nobody", "--password", "short-secret")
    assert refused.returncode == 2 and "short-secret" not in refused.stdout + refused.stderr
    assert "refused: email" in refused.stderr
