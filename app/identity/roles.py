"""Roles, lowest to highest. A route names the lowest role it admits."""

from enum import StrEnum


class Role(StrEnum):
    viewer = "viewer"
    engineer = "engineer"
    operator = "operator"
    admin = "admin"
    owner = "owner"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def admits(self, required: "Role") -> bool:
        return self.rank >= required.rank


_RANK = {role: index for index, role in enumerate(Role)}

# An API key acts for machines on intake routes; it never holds more than this.
MAX_API_KEY_ROLE = Role.operator
