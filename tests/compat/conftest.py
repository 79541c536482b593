from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import WorkerApps
from tests.helpers import Api, Session
from tests.receivers import Receiver

NOC = "/compat/noc/v1"


class Noc(Api):
    """The same client, on the compatibility surface (sign-in helpers stay on /api/v1)."""

    async def get(self, path: str, session: Session | None = None, **kw: Any) -> httpx.Response:
        return await self.client.get(NOC + path, headers=_auth(session, kw), **kw)

    async def post(self, path: str, session: Session | None = None, **kw: Any) -> httpx.Response:
        return await self.client.post(NOC + path, headers=_auth(session, kw), **kw)

    async def patch(self, path: str, session: Session | None = None, **kw: Any) -> httpx.Response:
        return await self.client.patch(NOC + path, headers=_auth(session, kw), **kw)

    async def put(self, path: str, session: Session | None = None, **kw: Any) -> httpx.Response:
        return await self.client.put(NOC + path, headers=_auth(session, kw), **kw)


def _auth(session: Session | None, kw: dict[str, Any]) -> dict[str, str]:
    headers = dict(session.headers) if session else {}
    headers.update(kw.pop("headers", None) or {})
    return headers


@pytest.fixture
async def app(worker_apps: WorkerApps) -> AsyncIterator[Any]:
    # Private webhook targets: the suite's receivers listen on 127.0.0.1.
    async with worker_apps.serve(
        compat_noc_enabled=True, webhook_allow_private_targets=True
    ) as application:
        yield application


@pytest.fixture
def noc(client: Any) -> Noc:
    return Noc(client)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as served:
        yield served
