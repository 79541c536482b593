from __future__ import annotations

from pydantic import field_validator

from app.auth.roles import Role
from app.auth.schemas import Email, Name, Password, check_password
from app.core.schemas import InputModel


class UserCreate(InputModel):
    email: Email
    password: Password
    full_name: Name | None = None
    role: Role = Role.viewer

    _password = field_validator("password")(check_password)


class UserUpdate(InputModel):
    full_name: Name | None = None
    role: Role | None = None
    is_active: bool | None = None
