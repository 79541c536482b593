from __future__ import annotations

from typing import Any

from app.core.schemas import OutputModel, UTCTimestamp


class JobOut(OutputModel):
    id: str
    kind: str
    queue: str
    status: str
    attempts: int
    max_attempts: int
    run_at: UTCTimestamp
    last_attempt_at: UTCTimestamp | None
    finished_at: UTCTimestamp | None
    last_error: str | None
    result: dict[str, Any] | None
    correlation_id: str | None
    created_at: UTCTimestamp
