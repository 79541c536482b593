from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.identity.models import User
from app.preferences.schemas import Preferences


async def preferences_of(session: AsyncSession, user_id: str) -> Preferences:
    stored = await session.scalar(select(User.preferences).where(User.id == user_id))
    # A document saved under older rules is read leniently: what no longer validates is reset.
    try:
        return Preferences.model_validate(stored or {})
    except ValueError:
        return Preferences()


async def save(session: AsyncSession, user_id: str, preferences: Preferences) -> Preferences:
    await session.execute(
        update(User).where(User.id == user_id).values(preferences=preferences.model_dump())
    )
    return preferences
