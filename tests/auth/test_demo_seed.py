from typing import Any

from sqlalchemy import func, select

from app.auth.models import Organization
from app.demo import DEMO_EMAIL, seed_demo
from tests.helpers import Api


async def test_demo_seed_creates_one_organization_and_renews_the_password(
    app: Any, api: Api
) -> None:
    email, first = await seed_demo(app.state.database)
    _, second = await seed_demo(app.state.database)
    assert email == DEMO_EMAIL and first != second
    async with app.state.database.sessionmaker() as session:
        count = await session.execute(select(func.count()).select_from(Organization))
        assert count.scalar_one() == 1
    old = await api.client.post("/api/v1/auth/login", json={"email": email, "password": first})
    assert old.status_code == 401
    session = await api.login(email, second)
    assert session.user["role"] == "owner"
