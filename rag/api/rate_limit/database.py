"""The request budget per key as a database row, shared by every API replica.

One conditional UPDATE takes a request: it refills the bucket for the time since its last
refill and takes one token, only where that leaves at least nothing owed. The row lock makes
concurrent requests of one key (from any replica) take turns, and PostgreSQL re-checks the
condition on the row as the previous request left it, so a budget is never overspent. A
request that finds no token reads the bucket to say how long to wait. Time is the replicas'
wall clock: a replica a second off moves a refill by a second's worth of tokens, no more.
"""

from __future__ import annotations

import time

from sqlalchemy import case, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from rag.api.rate_limit.base import refill, wait_s
from rag.db.models import RateLimitBucket
from rag.db.session import transaction


class DatabaseRateLimiter:
    def __init__(
        self, per_minute: int, session_factory: sessionmaker[Session], clock=time.time
    ) -> None:
        self.per_minute = per_minute
        self.session_factory = session_factory
        self._clock = clock
        self._known: set[int] = set()  # keys whose row exists

    def check(self, key_id: int) -> int | None:
        if self.per_minute <= 0:
            return None
        now = self._clock()
        if key_id not in self._known:
            self._create(key_id, now)
        bucket = RateLimitBucket
        elapsed = now - bucket.refilled_at
        refilled = bucket.tokens + case((elapsed > 0, elapsed), else_=0.0) * (
            self.per_minute / 60.0
        )
        capped = case((refilled > self.per_minute, float(self.per_minute)), else_=refilled)
        with transaction(self.session_factory) as session:
            taken = session.execute(
                update(bucket)
                .where(bucket.api_key_id == key_id, capped >= 1.0)
                .values(tokens=capped - 1.0, refilled_at=now)
                .returning(bucket.tokens)
            ).first()
            if taken is not None:
                return None
            row = session.execute(
                select(bucket.tokens, bucket.refilled_at).where(bucket.api_key_id == key_id)
            ).first()
        if row is None:  # the key's row went with the key: start a new bucket
            self._known.discard(key_id)
            return self.check(key_id)
        return wait_s(refill(row.tokens, now - row.refilled_at, self.per_minute), self.per_minute)

    def _create(self, key_id: int, now: float) -> None:
        """A full bucket for a key seen for the first time (by any replica)."""
        try:
            with transaction(self.session_factory) as session:
                exists = session.get(RateLimitBucket, key_id)
                if exists is None:
                    session.execute(
                        insert(RateLimitBucket).values(
                            api_key_id=key_id, tokens=float(self.per_minute), refilled_at=now
                        )
                    )
        except IntegrityError:
            pass  # another replica made it in the meantime
        self._known.add(key_id)
