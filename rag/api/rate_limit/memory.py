"""The buckets in this process: right for the embedded default, which is one process; N
replicas would each allow the full rate."""

from __future__ import annotations

import threading
import time

from rag.api.rate_limit.base import refill, wait_s


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
