"""The demo organization `make run` creates, so a newcomer can log in at once.

On every start with DEMO_SEED=true (never in production) the demo owner gets a fresh random
password, printed once: nothing reusable sits in the repository or the logs of a real system.
"""

from __future__ import annotations

import secrets
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from stellar_sdk import Keypair

from app.auth.schemas import RegisterRequest
from app.auth.service import register
from app.core.actors import Actor
from app.core.db import Database
from app.core.tenancy import system_session, tenant_session
from app.identity import throttle
from app.identity.models import User
from app.identity.passwords import hash_password
from app.stellar.genesis import ensure_local_pool, open_local_account
from app.stellar.network import derived_keypair
from app.stellar.runtime import stellar_for
from app.wallets import service as wallets

DEMO_EMAIL = "admin@demo.apexchainx.dev"
# A second admin: approving a claimed MTTR, a long clock pause or a dispute takes someone
# other than the person who made it.
APPROVER_EMAIL = "approver@demo.apexchainx.dev"


async def seed_demo(database: Database) -> tuple[str, str]:
    """Creates the demo organization and its owner if missing, and gives the owner a new
    password. On the local ledger, the organization's operator and ops team get funded wallets
    so a resolve pays at once. Returns (email, password)."""
    password = "Demo-" + secrets.token_urlsafe(12) + "-1a!"
    async with system_session(database, "seed the demo organization") as session:
        user = await _demo_user(session)
        if user is None:
            data = RegisterRequest(
                email=DEMO_EMAIL,
                password=password,
                full_name="Demo Admin",
                organization_name="Demo Telco",
            )
            user = await register(session, data)
        else:
            user.password_hash = await hash_password(password)
            await throttle.clear(session, throttle.subjects(database.settings, DEMO_EMAIL, user.id))
        await session.commit()
    stellar = stellar_for(database)
    if stellar.local is not None:
        await ensure_local_pool(stellar.local)
        addresses = {
            entity: demo_wallet(database, entity).public_key
            for entity in (wallets.OPERATOR, wallets.OPS_TEAM)
        }
        # The ledger first: on SQLite a session holding a write would lock it out.
        for address in addresses.values():
            if await stellar.local.account(address) is None:
                await open_local_account(stellar.local, address, DEMO_WALLET_USDC)
        async with tenant_session(database, user.organization_id) as session:
            for entity, address in addresses.items():
                await wallets.register(
                    session, user.organization_id, entity, address, Actor("system", "demo")
                )
            await session.commit()
    return DEMO_EMAIL, password


DEMO_WALLET_USDC = Decimal(100_000)


async def _demo_user(session: AsyncSession) -> User | None:
    """The demo owner: the first account of the demo email (others may add the address to
    their own organizations)."""
    return (
        await session.execute(
            select(User).where(User.email == DEMO_EMAIL).order_by(User.created_at).limit(1)
        )
    ).scalar_one_or_none()


async def demo_organization(database: Database) -> str:
    async with system_session(database, "find the demo organization") as session:
        user = await _demo_user(session)
    assert user is not None, "seed the demo organization first"
    return user.organization_id


async def seed_demo_month(database: Database) -> int:
    """The demo organization's month of history, once (see app/demo_data.py)."""
    from app.demo_data import seed_demo_data

    return await seed_demo_data(database, await demo_organization(database))


async def seed_demo_approver(database: Database) -> tuple[str, str]:
    """The demo organization's second admin, with a new password at every start."""
    password = "Demo-" + secrets.token_urlsafe(12) + "-2b!"
    organization_id = await demo_organization(database)
    async with tenant_session(database, organization_id) as session:
        user = (
            await session.execute(select(User).where(User.email == APPROVER_EMAIL))
        ).scalar_one_or_none()
        if user is None:
            session.add(
                User(
                    organization_id=organization_id,
                    email=APPROVER_EMAIL,
                    password_hash=await hash_password(password),
                    full_name="Demo Approver",
                    role="admin",
                )
            )
        else:
            user.password_hash = await hash_password(password)
            subjects = throttle.subjects(database.settings, APPROVER_EMAIL, user.id)
            await throttle.clear(session, subjects)
        await session.commit()
    return APPROVER_EMAIL, password


def demo_wallet(database: Database, entity: str) -> Keypair:
    """The demo's wallets on the local ledger, stable across restarts."""
    return derived_keypair(database.settings, f"demo-wallet-{entity}")


def announce(
    credentials: tuple[str, str], database: Database, approver: tuple[str, str] | None = None
) -> None:
    email, password = credentials
    lines = [
        "",
        "  ApexChainX demo is ready: Swagger UI at /docs, log in with",
        f"    email:    {email}",
        f"    password: {password}   (new at every start)",
    ]
    if approver is not None:
        lines += [
            "  A second admin, to approve what the first one claims (MTTR overrides, pauses):",
            f"    email:    {approver[0]}",
            f"    password: {approver[1]}",
        ]
    if stellar_for(database).local is not None:
        operator = demo_wallet(database, wallets.OPERATOR)
        lines += [
            "  Local ledger (simulated, no real value). The demo operator signs penalty",
            f"  envelopes with this key: {operator.secret}",
        ]
    print("\n".join([*lines, ""]), flush=True)
