"""Starting a real Celery worker process for the tests that are about workers."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUEUES = "default,sla,payouts,webhooks,investigations"


def start_worker(
    log: Path, env: dict[str, str], name: str, queues: str = QUEUES
) -> subprocess.Popen[bytes]:
    """`log` must be a new file: the worker is ready when it says so there."""
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "app.worker",
                "worker",
                "--pool",
                "solo",
                "-Q",
                queues,
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel",
                "INFO",
                "-n",
                f"{name}-{os.getpid()}@%h",
            ],
            cwd=ROOT,
            env={**os.environ, "LOG_LEVEL": "INFO", **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while "ready" not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("celery worker did not start:\n" + log.read_text()[-2000:])
        time.sleep(0.2)
    return process


def stop_worker(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextlib.contextmanager
def celery_worker(
    log: Path, env: dict[str, str], name: str = "test"
) -> Iterator[subprocess.Popen[bytes]]:
    process = start_worker(log, env, name)
    try:
        yield process
    finally:
        if process.poll() is None:
            stop_worker(process)
