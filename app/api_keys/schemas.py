from __future__ import annotations

from pydantic import Field

from app.auth.roles import Role
from app.auth.schemas import Name
from app.core.schemas import InputModel, OutputModel, UTCTimestamp


class ApiKeyCreate(InputModel):
    name: Name
    role: Role = Field(default=Role.operator, description="At most `operator`.")


class ApiKeyOut(OutputModel):
    id: str
    name: str
    key_prefix: str
    role: Role
    created_at: UTCTimestamp
    last_used_at: UTCTimestamp | None
    revoked_at: UTCTimestamp | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The secret. Shown once; store it now.")
