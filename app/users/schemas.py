from __future__ import annotations

from pydantic import StrictBool, field_validator

from app.auth.schemas import Email, Name, NewPassword, check_password
from app.core.schemas import InputModel
from app.identity.roles import Role


class UserCreate(InputModel):
    email: Email
    password: NewPassword
    full_name: Name | None = None
    role: Role = Role.viewer

    _password = field_validator("password")(check_password)


class UserUpdate(InputModel):
    full_name: Name | None = None
    role: Role | None = None
    is_active: StrictBool | None = None
