"""A circuit breaker for a dependency that may hang rather than fail.

Closed: calls go through. After `failures_to_open` failures in a row it opens for
`open_seconds`: calls are not attempted at all (they cost nothing). Then one call at a time is
let through as a probe (half-open); its success closes the breaker, its failure opens it again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass
class CircuitBreaker:
    failures_to_open: int = 3
    open_seconds: float = 5.0
    failures: int = 0
    opened_until: float = 0.0
    probing: bool = False
    total_failures: int = 0

    def allow(self) -> bool:
        """Whether to attempt a call now."""
        if self.failures < self.failures_to_open:
            return True
        if time.monotonic() < self.opened_until or self.probing:
            return False
        self.probing = True  # half-open: this call is the probe
        return True

    def succeeded(self) -> None:
        self.failures, self.probing = 0, False

    def failed(self) -> None:
        self.failures += 1
        self.total_failures += 1
        self.probing = False
        if self.failures >= self.failures_to_open:
            self.opened_until = time.monotonic() + self.open_seconds

    @property
    def is_open(self) -> bool:
        return self.failures >= self.failures_to_open
