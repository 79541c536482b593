"""A started application leaves its process's collector set for serving (app/core/heap.py)."""

from __future__ import annotations

import gc
from typing import Any

from app.core import heap


async def test_a_started_application_freezes_start_up_and_spaces_young_collections(
    app: Any,
) -> None:
    assert gc.get_freeze_count() > 10_000  # start-up's survivors: never walked again
    assert gc.get_threshold() == heap.THRESHOLDS
    assert gc.isenabled()  # cycles made while serving are still found
