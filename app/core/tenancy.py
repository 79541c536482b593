"""Tenant isolation in one place.

Every model owned by an organization mixes in `TenantMixin`. Once a request's principal is
known, `scope_session_to(session, org_id)` marks the session, and the `do_orm_execute` hook
below adds `organization_id = :org` to every ORM SELECT, UPDATE and DELETE touching such a
model. A service that forgets a filter still cannot read or change another tenant's rows; ids
of other tenants simply are not found (404).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import ForeignKey, String, event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import (
    Mapped,
    ORMExecuteState,
    Session,
    declared_attr,
    mapped_column,
    with_loader_criteria,
)

TENANT_KEY = "organization_id"


class TenantMixin:
    @declared_attr
    def organization_id(self) -> Mapped[str]:
        return mapped_column(
            String(30), ForeignKey("organizations.id", ondelete="CASCADE"), index=True
        )


def scope_session_to(session: AsyncSession, organization_id: str) -> None:
    session.info[TENANT_KEY] = organization_id


def session_tenant(session: AsyncSession | Session) -> str | None:
    value: Any = session.info.get(TENANT_KEY)
    return value if isinstance(value, str) else None


@lru_cache(maxsize=4096)
def _tenant_criteria(organization_id: str) -> Any:
    """One option object per organization: building it is the costly part, and it is
    immutable, so every statement of that organization shares it."""
    return with_loader_criteria(
        TenantMixin,
        lambda cls: cls.organization_id == organization_id,
        include_aliases=True,
    )


@event.listens_for(Session, "do_orm_execute")
def _filter_by_tenant(state: ORMExecuteState) -> None:
    organization_id = state.session.info.get(TENANT_KEY)
    if organization_id is None or state.is_column_load or state.is_relationship_load:
        return
    if state.is_select or state.is_update or state.is_delete:
        state.statement = state.statement.options(_tenant_criteria(organization_id))
