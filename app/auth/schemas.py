from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import AliasChoices, BeforeValidator, ConfigDict, Field, StrictBool, field_validator

from app.core.schemas import (
    PYTHON_BLANKS,
    WITHHELD_ON_REPLAY,
    InputModel,
    OutputModel,
    UTCTimestamp,
)
from app.identity.passwords import MAX_LENGTH, MIN_LENGTH, policy_violations
from app.identity.roles import Role

# No blank (as Python's strip() sees blanks: the address is stripped first) and no `@`.
_PART = rf"[^@{PYTHON_BLANKS}\ufeff]+"
EMAIL_PATTERN = rf"^{_PART}@{_PART}\.{_PART}$"


def normalise_email(value: object) -> object:
    """Lower-cased before the length check: some characters grow when lower-cased."""
    return value.strip().lower() if isinstance(value, str) else value


Email = Annotated[
    str,
    Field(min_length=3, max_length=320, pattern=EMAIL_PATTERN),
    BeforeValidator(normalise_email),
]
Password = Annotated[str, Field(min_length=1, max_length=128)]
# A new password: the policy's lengths in the schema, its character classes described (and
# named by `format: password`, as OpenAPI does).
NewPassword = Annotated[
    str,
    Field(
        min_length=MIN_LENGTH,
        max_length=MAX_LENGTH,
        json_schema_extra={"format": "password"},
        description=f"{MIN_LENGTH}..{MAX_LENGTH} characters with an uppercase letter, a "
        "lowercase letter, a digit and a special character.",
    ),
]
Name = Annotated[str, Field(min_length=1, max_length=255)]


def check_password(value: str) -> str:
    problems = policy_violations(value)
    if problems:
        raise ValueError("password must have " + ", ".join(problems))
    return value


class RegisterRequest(InputModel):
    # `role` is accepted and ignored: the registering user always becomes the owner of a new
    # organization (the seed's example sends one).
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    email: Email = Field(validation_alias=AliasChoices("email", "username"))
    password: NewPassword
    full_name: Name | None = None
    organization_name: Name | None = None

    _password = field_validator("password")(check_password)


class PasswordChange(InputModel):
    current_password: Password
    new_password: NewPassword = Field(
        description="12..128 characters with upper, lower, digit, special."
    )

    _password = field_validator("new_password")(check_password)


class PasswordResetRequest(InputModel):
    token: Annotated[str, Field(min_length=10, max_length=200, description="The reset token.")]
    new_password: NewPassword = Field(
        description="12..128 characters with upper, lower, digit, special."
    )

    _password = field_validator("new_password")(check_password)


class PasswordResetIssued(OutputModel):
    secret_fields: ClassVar[tuple[str, ...]] = ("token",)

    user_id: str
    token: str | None = Field(
        description="The one-time token, shown once; null when it went to the user by email "
        "(`delivery: email`)." + WITHHELD_ON_REPLAY
    )
    expires_at: UTCTimestamp
    delivery: Literal["returned", "email"]


class LoginRequest(InputModel):
    email: Email = Field(validation_alias=AliasChoices("email", "username"))
    password: Password
    organization_id: str | None = Field(
        default=None,
        max_length=64,
        description="For an email with accounts in several organizations: which one. Without "
        "it, the email's first account (the oldest active one); accounts other "
        "organizations add later with the same email are signed in to only by naming them.",
    )
    cookies: StrictBool = Field(
        default=False,
        description="Browser session mode: also set the tokens as `HttpOnly; SameSite=Lax` "
        "cookies (`apex_access`, `apex_refresh`) and an `apex_csrf` cookie; requests then "
        "authenticate by cookie without `Authorization` (docs/guides/browser-clients.md).",
    )


class RefreshRequest(InputModel):
    refresh_token: Annotated[str | None, Field(min_length=1, max_length=2048)] = Field(
        default=None,
        description="The refresh token; a browser in cookie mode may leave it out (its "
        "`apex_refresh` cookie is used).",
    )
    cookies: StrictBool = Field(
        default=False,
        description="Browser session mode: also set the tokens as `HttpOnly; SameSite=Lax` "
        "cookies (`apex_access`, `apex_refresh`) and an `apex_csrf` cookie; requests then "
        "authenticate by cookie without `Authorization` (docs/guides/browser-clients.md).",
    )


class OrganizationOut(OutputModel):
    id: str
    name: str


class UserOut(OutputModel):
    id: str
    email: str
    full_name: str | None
    role: Role
    organization_id: str
    is_active: bool
    created_at: UTCTimestamp
    stellar_wallet: str | None = Field(
        default=None,
        description="The Stellar address registered for this user (`POST /wallets/create`, or "
        "`POST /wallets` with the user's id as `entity_id`); null when none is.",
        json_schema_extra={"format": "stellar-public-key"},
    )


class MeOut(UserOut):
    organization: OrganizationOut


class TokenPair(OutputModel):
    # Tokens: never cached (`Cache-Control: no-store`).
    secret_fields: ClassVar[tuple[str, ...]] = ("access_token", "refresh_token")

    access_token: str
    refresh_token: str
    token_type: str = "bearer"  # noqa: S105
    expires_in: int
    user: UserOut
