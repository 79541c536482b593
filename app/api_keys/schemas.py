from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from app.auth.schemas import Name
from app.core.schemas import WITHHELD_ON_REPLAY, InputModel, OutputModel, UTCTimestamp
from app.identity.roles import Role


class ApiKeyCreate(InputModel):
    name: Name
    # At most `operator` (MAX_API_KEY_ROLE), stated in the schema.
    role: Literal["viewer", "engineer", "operator"] = Field(
        default="operator", description="At most `operator`."
    )


class ApiKeyOut(OutputModel):
    id: str
    name: str
    key_prefix: str
    role: Role
    created_at: UTCTimestamp
    last_used_at: UTCTimestamp | None
    revoked_at: UTCTimestamp | None


class ApiKeyCreated(ApiKeyOut):
    secret_fields: ClassVar[tuple[str, ...]] = ("key",)

    key: str | None = Field(
        description="The secret. Shown once; store it now." + WITHHELD_ON_REPLAY
    )
