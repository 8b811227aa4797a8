"""Requests per minute per API key: a token bucket per key.

A key may burst up to `per_minute` requests, then gets one more every 60/per_minute seconds.
Two stores behind one protocol (`api.rate_limit_store`), one file each:

* `MemoryRateLimiter` (memory.py): the buckets live in this process. Right for the embedded
  default, which is one process; N replicas would each allow the full rate.
* `DatabaseRateLimiter` (database.py): the buckets are rows that every replica updates, so the
  limit holds however many there are. `auto` picks it on PostgreSQL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rag.api.rate_limit.base import RateLimiter
from rag.api.rate_limit.database import DatabaseRateLimiter
from rag.api.rate_limit.memory import MemoryRateLimiter

if TYPE_CHECKING:
    from rag.config import ApiSettings
    from rag.service import RagService

__all__ = ["DatabaseRateLimiter", "MemoryRateLimiter", "RateLimiter", "build_rate_limiter"]


def build_rate_limiter(api: ApiSettings, service: RagService) -> RateLimiter:
    """The limiter `api.rate_limit_store` asks for, on `service`'s database."""
    store = api.rate_limit_store
    if store == "auto":
        store = "database" if service.engine.dialect.name == "postgresql" else "memory"
    if store == "memory":
        return MemoryRateLimiter(api.requests_per_minute)
    return DatabaseRateLimiter(api.requests_per_minute, service.session_factory)
