"""How the API is served: one command line, used by `apexchainx serve`, `make run`, the
Dockerfile, the benchmarks and the test suite's live servers.

`--no-proxy-headers`: uvicorn would otherwise rewrite the client address from
`X-Forwarded-For` for any peer in its own trusted list (127.0.0.1 by default), behind the
application's back. The application decides the client address itself, from `TRUSTED_PROXIES`
(`app/core/client.py`).
"""

from __future__ import annotations

import sys

GRACEFUL_SHUTDOWN_SECONDS = 20


def uvicorn_command(host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "app.main:create_app",
        "--factory",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-proxy-headers",
        "--no-server-header",
        "--timeout-graceful-shutdown",
        str(GRACEFUL_SHUTDOWN_SECONDS),
    ]
