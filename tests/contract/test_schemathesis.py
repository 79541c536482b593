"""Schemathesis against a real server on PostgreSQL: every check, every phase (stateful
included), as the fuzzing user of one organization while a user of another organization
checks that nothing read by id is theirs to read (tests/contract/schemathesis_hooks.py).

Excluded, and only these: the operations that destroy the fuzzing identity (logging out, here
or everywhere, ending a session, changing its password, deactivating, demoting or deleting a
user, which may be itself), and the session event stream (open as long as the session).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from app.openapi_meta import TAGS
from tests import templates
from tests.helpers import make_app, sibling_database
from tests.live import ROOT, live_server

pytestmark = [pytest.mark.live, pytest.mark.fuzz]

HERE = Path(__file__).resolve().parent
IDENTITY_DESTROYING = (
    *("logout", "logout_all", "end_session", "change_password", "update_user", "delete_user"),
    "session_events",  # a stream that stays open while the session stands (tests/auth)
)
PASSWORD = "Correct-Horse-42!"
# `make test` runs the same cases on any machine: a count per operation and a fixed seed, no
# clock (a time budget reached different cases on a slower machine, and failed one run in
# three). `make fuzz` is the longer hunt: bounded by FUZZ_SECONDS, with a new seed each run
# unless FUZZ_SEED is given (the seed is printed in the report to replay a finding).
EXAMPLES = os.environ.get("FUZZ_EXAMPLES", "8")
SECONDS = os.environ.get("FUZZ_SECONDS")
SEED = os.environ.get("FUZZ_SEED", "20261202")


def _budget() -> list[str]:
    if SECONDS:
        seed = ["--seed", os.environ["FUZZ_SEED"]] if "FUZZ_SEED" in os.environ else []
        return [
            "--max-time",
            SECONDS,
            "--max-examples",
            os.environ.get("FUZZ_EXAMPLES", "100"),
            *seed,
        ]
    return ["--max-examples", EXAMPLES, "--seed", SEED, "--generation-deterministic"]


# The gate runs as SHARDS tests, each fuzzing the operations of every SHARDS-th tag against a
# server of its own: pytest-xdist spreads them over its workers. `make fuzz` is one run.
SHARDS = 1 if SECONDS else 3


def shard_tags(shard: int) -> list[str]:
    names = sorted(tag["name"] for tag in TAGS)
    return [name for index, name in enumerate(names) if index % SHARDS == shard]


def _fuzz_database(shard: int) -> str:
    return templates.clone_postgres(sibling_database(f"fuzz{shard}"))


def _token(base: str, email: str) -> str:
    api = base + "/api/v1"
    registered = httpx.post(api + "/auth/register", json={"email": email, "password": PASSWORD})
    assert registered.status_code == 201, registered.text
    login = httpx.post(api + "/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return str(login.json()["access_token"])


def test_every_operation_is_in_a_shard() -> None:
    spec = make_app().openapi()
    tags = {t for ops in spec["paths"].values() for op in ops.values() for t in op["tags"]}
    assert tags <= {t for shard in range(SHARDS) for t in shard_tags(shard)}
    untagged = [p for p, ops in spec["paths"].items() for op in ops.values() if not op["tags"]]
    assert untagged == []


@pytest.mark.parametrize("shard", range(SHARDS))
def test_schemathesis_finds_nothing(tmp_path: Path, shard: int) -> None:
    env = {
        "DATABASE_URL": _fuzz_database(shard),
        "REDIS_URL": "",
        "RATE_LIMIT_ENABLED": "false",
        "ENVIRONMENT": "development",
        "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
        "SECRET_KEY": "fuzzing-secret-key-fuzzing-secret-key-0123456789",
        "LOG_LEVEL": "WARNING",
    }
    with live_server(env, log=tmp_path / "server.log") as base:
        tokens = {
            "FUZZ_TOKEN": _token(base, "fuzzer@example.com"),
            "FUZZ_OTHER_TOKEN": _token(base, "neighbour@example.com"),
        }
        excluded = [arg for op in IDENTITY_DESTROYING for arg in ("--exclude-operation-id", op)]
        if SHARDS > 1:
            excluded += [arg for tag in shard_tags(shard) for arg in ("--include-tag", tag)]
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "schemathesis.cli",
                "--config-file",
                str(HERE / "schemathesis.toml"),
                "--no-color",
                "run",
                f"{base}/openapi.json",
                "--checks",
                "all",
                *_budget(),
                "--generation-allow-x00",
                "false",
                "--report-dir",
                str(tmp_path),
                *excluded,
            ],
            cwd=ROOT,
            env={
                **os.environ,
                **tokens,
                "SCHEMATHESIS_HOOKS": "tests.contract.schemathesis_hooks",
            },
            capture_output=True,
            text=True,
        )
    summary = run.stdout[run.stdout.find("=== SUMMARY") - 40 :] if run.stdout else run.stderr
    print(summary)  # `make fuzz` shows it (and the seed to replay)
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-3000:]
    assert "failures" not in summary.split("Test cases:")[-1] or " 0 unique" in summary
