"""Requests per minute per API key: a token bucket per key.

A key may burst up to `per_minute` requests, then gets one more every 60/per_minute seconds.
Two stores behind one protocol (`api.rate_limit_store`):

* `MemoryRateLimiter` (here): the buckets live in this process. Right for the embedded default,
  which is one process; N replicas would each allow the full rate.
* `DatabaseRateLimiter` (rag/api/rate_limit_sql.py): the buckets are rows that every replica
  updates, so the limit holds however many there are. `auto` picks it on PostgreSQL.
"""

from __future__ import annotations

import math
import threading
import time
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from rag.config import ApiSettings
    from rag.service import RagService


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


class MemoryRateLimiter:
    def __init__(self, per_minute: int, clock=time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[int, tuple[float, float]] = {}  # key id -> (tokens, last refill)

    def check(self, key_id: int) -> int | None:
        if self.per_minute <= 0:
            return None
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.get(key_id, (float(self.per_minute), now))
            tokens = refill(tokens, now - last, self.per_minute)
            if tokens >= 1.0:
                self._buckets[key_id] = (tokens - 1.0, now)
                return None
            self._buckets[key_id] = (tokens, now)
            return wait_s(tokens, self.per_minute)


def build_rate_limiter(api: ApiSettings, service: RagService) -> RateLimiter:
    """The limiter `api.rate_limit_store` asks for, on `service`'s database."""
    store = api.rate_limit_store
    if store == "auto":
        store = "database" if service.engine.dialect.name == "postgresql" else "memory"
    if store == "memory":
        return MemoryRateLimiter(api.requests_per_minute)
    from rag.api.rate_limit_sql import DatabaseRateLimiter

    return DatabaseRateLimiter(api.requests_per_minute, service.session_factory)
