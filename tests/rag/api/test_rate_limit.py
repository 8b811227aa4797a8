"""Both rate-limit stores hold the same contract (a burst, an even refill, a wait in whole
seconds, keys apart); the database store also holds one budget across API replicas, on SQLite
and PostgreSQL."""

from __future__ import annotations

import threading

import pytest

from rag.api.rate_limit import (
    DatabaseRateLimiter,
    MemoryRateLimiter,
    RateLimiter,
    build_rate_limiter,
)
from rag.config import ApiSettings
from rag.db.models import RateLimitBucket
from rag.db.session import make_engine, make_session_factory, transaction
from rag.keys import create_key


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def database(database_url):
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        keys = [create_key(session, f"k{i}", "reader", []).record for i in range(2)]
        session.flush()
        ids = [key.id for key in keys]
    yield factory, ids
    engine.dispose()


class RateLimiterContract:
    """What every rate-limit store keeps; a store's test class inherits it and says how to
    make one (`make_limiter(per_minute, clock)`)."""

    @pytest.fixture
    def make_limiter(self, database):
        raise NotImplementedError

    def test_a_burst_then_an_even_refill(self, make_limiter, database):
        _, (key, other) = database
        clock = Clock()
        limiter = make_limiter(6, clock)  # one request every 10 s after the burst
        assert [limiter.check(key) for _ in range(6)] == [None] * 6
        assert limiter.check(key) == 10
        assert limiter.check(other) is None, "another key has its own budget"
        clock.now += 4
        assert limiter.check(key) == 6
        clock.now += 6
        assert limiter.check(key) is None
        assert limiter.check(key) == 10
        clock.now += 3600
        assert [limiter.check(key) for _ in range(6)] == [None] * 6, "refills up to the burst only"
        assert limiter.check(key) is not None

    def test_a_clock_that_goes_back_refills_nothing(self, make_limiter, database):
        _, (key, _) = database
        clock = Clock()
        limiter = make_limiter(1, clock)
        assert limiter.check(key) is None
        clock.now -= 30
        assert limiter.check(key) == 60

    def test_zero_means_no_limit(self, make_limiter, database):
        _, (key, _) = database
        limiter = make_limiter(0, Clock())
        assert all(limiter.check(key) is None for _ in range(50))

    def test_it_is_a_rate_limiter(self, make_limiter):
        limiter = make_limiter(5, Clock())
        assert isinstance(limiter, RateLimiter)
        assert limiter.per_minute == 5


class TestMemoryRateLimiter(RateLimiterContract):
    @pytest.fixture
    def make_limiter(self, database):
        return lambda per_minute, clock: MemoryRateLimiter(per_minute, clock=clock)


class TestDatabaseRateLimiter(RateLimiterContract):
    @pytest.fixture
    def make_limiter(self, database):
        factory, _ = database
        return lambda per_minute, clock: DatabaseRateLimiter(per_minute, factory, clock=clock)


def test_replicas_share_one_budget(database):
    factory, (key, _) = database
    clock = Clock()
    replicas = [DatabaseRateLimiter(10, factory, clock=clock) for _ in range(2)]
    allowed: list[int] = []

    def ask(replica: DatabaseRateLimiter) -> None:
        for _ in range(10):
            if replica.check(key) is None:
                allowed.append(1)

    threads = [threading.Thread(target=ask, args=(replica,)) for replica in replicas * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(allowed) == 10, "40 requests from two replicas, one budget of 10"
    with factory() as session:
        assert session.get(RateLimitBucket, key).tokens == pytest.approx(0.0)


def test_auto_shares_the_budget_on_postgresql_only(database_url):
    class Service:
        def __init__(self) -> None:
            self.engine = make_engine(database_url)
            self.session_factory = make_session_factory(self.engine)

    service = Service()
    limiter = build_rate_limiter(ApiSettings(), service)
    shared = service.engine.dialect.name == "postgresql"
    assert isinstance(limiter, DatabaseRateLimiter if shared else MemoryRateLimiter)
    chosen = build_rate_limiter(ApiSettings(rate_limit_store="database"), service)
    assert isinstance(chosen, DatabaseRateLimiter)
    service.engine.dispose()
