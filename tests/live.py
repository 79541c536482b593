"""A real uvicorn server in a subprocess, for what only a real socket shows (body limits,
the embedded SQLite default)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from app.serving import uvicorn_command

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def live_server(
    env: dict[str, str], *, migrate: bool = False, log: Path | None = None
) -> Iterator[str]:
    """`log`: where the server writes (a long run fills an unread pipe, and then it hangs)."""
    port = free_port()
    full_env = {**os.environ, **env}
    if migrate:
        subprocess.run(
            [sys.executable, "-m", "alembic", "upgrade", "head"],
            cwd=ROOT,
            env=full_env,
            check=True,
            capture_output=True,
        )
    output = log.open("w") if log is not None else None
    process = subprocess.Popen(
        uvicorn_command("127.0.0.1", port),
        cwd=ROOT,
        env=full_env,
        stdout=output or subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/health/live", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise RuntimeError("server did not start")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        if output is not None:
            output.close()
