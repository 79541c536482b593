"""Webhook receivers: real HTTP servers on 127.0.0.1 that record what they get and answer
as told (a status, a delay, a redirect)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.replies: list[Reply] = []  # consumed in order; then 200
        self.always: Reply | None = None
        self.url = ""
        self._served: Served | None = None

    def app(self) -> Starlette:
        async def endpoint(request: Request) -> Response:
            self.received.append(
                Received(request.url.path, dict(request.headers), await request.body())
            )
            reply = self.replies.pop(0) if self.replies else (self.always or Reply())
            if reply.delay:
                await asyncio.sleep(reply.delay)
            return Response(status_code=reply.status, headers=reply.headers, content=b"ok")

        return Starlette(routes=[Route("/{path:path}", endpoint, methods=["POST", "GET"])])

    def __enter__(self) -> Receiver:
        self._served = Served(self.app())
        self.url = self._served.__enter__()
        return self

    def __exit__(self, *_: object) -> None:
        assert self._served is not None
        self._served.__exit__()


class Served:
    """A Starlette app served by uvicorn on a free port of 127.0.0.1, in a thread."""

    def __init__(self, app: Any) -> None:
        # A request still held open when the test ends (a stand-in told to stall) is not waited
        # for past a second: the test is over.
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=0,
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def receivers(count: int) -> Iterator[list[Receiver]]:
    started = [Receiver().__enter__() for _ in range(count)]
    try:
        yield started
    finally:
        for receiver in started:
            receiver.__exit__()
