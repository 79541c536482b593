"""The demo organization `make run` creates, so a newcomer can log in at once.

On every start with DEMO_SEED=true (never in production) the demo owner gets a fresh random
password, printed once: nothing reusable sits in the repository or the logs of a real system.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select

from app.auth.models import User
from app.auth.passwords import hash_password
from app.auth.schemas import RegisterRequest
from app.auth.service import register
from app.auth.throttle import clear_failures
from app.db import Database

DEMO_EMAIL = "admin@demo.apexchainx.dev"


async def seed_demo(database: Database) -> tuple[str, str]:
    """Creates the demo organization and its owner if missing, and gives the owner a new
    password. Returns (email, password)."""
    password = "Demo-" + secrets.token_urlsafe(12) + "-1a!"
    async with database.sessionmaker() as session:
        user = (
            await session.execute(select(User).where(User.email == DEMO_EMAIL))
        ).scalar_one_or_none()
        if user is None:
            data = RegisterRequest(
                email=DEMO_EMAIL,
                password=password,
                full_name="Demo Admin",
                organization_name="Demo Telco",
            )
            await register(session, data)
        else:
            user.password_hash = await hash_password(password)
            await clear_failures(session, DEMO_EMAIL)
        await session.commit()
    return DEMO_EMAIL, password


def announce(credentials: tuple[str, str]) -> None:
    email, password = credentials
    print(
        "\n  ApexChainX demo is ready: Swagger UI at /docs, log in with\n"
        f"    email:    {email}\n    password: {password}   (new at every start)\n",
        flush=True,
    )
