"""Users as the API shows them: with the Stellar address registered for each."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.schemas import UserOut
from app.identity.models import User
from app.wallets.models import Wallet


async def users_out(session: AsyncSession, users: Sequence[User]) -> list[UserOut]:
    """One query for the wallets of all `users` (a wallet's entity is the user's id)."""
    ids = [user.id for user in users]
    wallets: dict[str, str] = {}
    if ids:
        rows = await session.execute(
            select(Wallet.entity_id, Wallet.address).where(Wallet.entity_id.in_(ids))
        )
        wallets = {row.entity_id: row.address for row in rows}
    return [
        UserOut.model_validate(user).model_copy(update={"stellar_wallet": wallets.get(user.id)})
        for user in users
    ]


async def user_out(session: AsyncSession, user: User) -> UserOut:
    return (await users_out(session, [user]))[0]
