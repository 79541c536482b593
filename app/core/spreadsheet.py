"""CSV cells a spreadsheet would run as formulas (`=HYPERLINK(...)` in a site name) are
quoted, wherever the service writes CSV (the API's exports and `apexchainx export`)."""

from __future__ import annotations

from typing import Any

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """Text that starts like a formula gets a leading quote; numbers are left as they are."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value
