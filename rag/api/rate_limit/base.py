"""The rate limiter protocol and the token-bucket arithmetic both stores share."""

from __future__ import annotations

import math
from typing import Protocol, runtime_checkable


@runtime_checkable
class RateLimiter(Protocol):
    per_minute: int

    def check(self, key_id: int) -> int | None:
        """Take one request for `key_id`: None when allowed, else the seconds to wait."""


def refill(tokens: float, elapsed_s: float, per_minute: int) -> float:
    """A bucket's tokens after `elapsed_s` seconds (a clock that went back refills nothing)."""
    return min(float(per_minute), tokens + max(0.0, elapsed_s) * per_minute / 60.0)


def wait_s(tokens: float, per_minute: int) -> int:
    """Whole seconds until a bucket holding `tokens` (< 1) has one."""
    return max(1, math.ceil((1.0 - tokens) * 60.0 / per_minute))
