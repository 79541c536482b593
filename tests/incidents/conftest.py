import pytest

from tests.helpers import Api, Session


@pytest.fixture
async def owner(api: Api) -> Session:
    return await api.owner()
