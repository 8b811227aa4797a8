"""The read-ahead's logic (ingest/read_ahead.py) with plain functions for reads: order, errors,
bounds, and closing. Threads are synchronized by events, never by sleeping."""

from __future__ import annotations

import threading

import pytest

from ingest.read_ahead import ReadAhead

WAIT_S = 30  # only a failing test waits this long


class Gate:
    """A read per item that waits until the test opens the item's gate, recording starts and
    ends."""

    def __init__(self, count: int) -> None:
        self.opened = [threading.Event() for _ in range(count)]
        self.started: list[int] = []
        self.finished: list[int] = []
        self.lock = threading.Condition()

    def read(self, item: int) -> int:
        with self.lock:
            self.started.append(item)
            self.lock.notify_all()
        assert self.opened[item].wait(WAIT_S)
        with self.lock:
            self.finished.append(item)
            self.lock.notify_all()
        return item * 10

    def wait_started(self, count: int) -> list[int]:
        with self.lock:
            assert self.lock.wait_for(lambda: len(self.started) >= count, WAIT_S)
            return sorted(self.started)


def test_outcomes_come_in_item_order_when_later_items_finish_first():
    gate = Gate(4)
    for item in (1, 2, 3):
        gate.opened[item].set()

    def open_first_when_the_others_are_done() -> None:
        with gate.lock:
            assert gate.lock.wait_for(lambda: len(gate.finished) == 3, WAIT_S)
        gate.opened[0].set()

    opener = threading.Thread(target=open_first_when_the_others_are_done)
    opener.start()
    with ReadAhead(range(4), gate.read, threads=4, max_items=4) as ahead:
        values = [ahead.take(i).get() for i in range(4)]
    opener.join()
    assert gate.finished[-1] == 0  # item 0 finished last ...
    assert values == [0, 10, 20, 30]  # ... and was still handed out first


def test_nothing_is_read_before_the_first_take():
    started = []
    with ReadAhead([1, 2], started.append, threads=2, max_items=2) as ahead:
        assert started == []
        ahead.take(0)
    assert 1 in started


def test_a_failing_read_is_its_items_outcome_and_the_others_go_on():
    def read(item: int) -> int:
        if item == 1:
            raise ValueError("bad item")
        return item

    with ReadAhead(range(4), read, threads=2, max_items=4) as ahead:
        outcomes = [ahead.take(i) for i in range(4)]
    assert [o.value for o in outcomes] == [0, None, 2, 3]
    assert isinstance(outcomes[1].error, ValueError)
    with pytest.raises(ValueError, match="bad item"):
        outcomes[1].get()


def test_no_more_than_max_items_are_started_ahead_of_the_caller():
    gate = Gate(6)
    for event in gate.opened:
        event.set()
    with ReadAhead(range(6), gate.read, threads=3, max_items=2) as ahead:
        ahead.take(0)
        # Item 0 taken: items 1 and 2 may be started, item 3 may not until item 1 is taken.
        assert gate.wait_started(3) == [0, 1, 2]
        with gate.lock:
            assert not gate.lock.wait_for(lambda: len(gate.started) > 3, 0.2)
        ahead.take(1)
        assert gate.wait_started(4) == [0, 1, 2, 3]


def test_no_item_starts_while_the_waiting_results_weigh_the_bound():
    gate = Gate(5)
    for event in gate.opened:
        event.set()
    ahead = ReadAhead(range(5), gate.read, threads=1, max_items=5, max_weight=25, weight=float)
    with ahead:
        ahead.take(0)
        # Results 10 and 20 waiting weigh 30 >= 25: item 3 waits until one is taken.
        assert gate.wait_started(3) == [0, 1, 2]
        with gate.lock:
            assert not gate.lock.wait_for(lambda: len(gate.started) > 3, 0.2)
        ahead.take(1)
        assert gate.wait_started(4) == [0, 1, 2, 3]


def test_a_closed_read_ahead_starts_nothing_more_and_does_not_wait_for_reads_in_flight():
    gate = Gate(4)
    gate.opened[0].set()
    ahead = ReadAhead(range(4), gate.read, threads=2, max_items=4)
    assert ahead.take(0).get() == 0
    assert gate.wait_started(3)  # items 1 and 2 are in flight
    ahead.close()  # returns although they are still running
    gate.opened[1].set()
    gate.opened[2].set()
    with gate.lock:
        assert not gate.lock.wait_for(lambda: 3 in gate.started, 0.2)
    with pytest.raises(RuntimeError, match="closed"):
        ahead.take(1)


def test_items_are_taken_in_order():
    ahead = ReadAhead([1, 2], lambda item: item, threads=1, max_items=1)
    with ahead, pytest.raises(ValueError, match="in order"):
        ahead.take(1)


def test_whatever_a_read_raises_reaches_the_caller_instead_of_leaving_it_waiting():
    def read(item: int) -> int:
        raise SystemExit(item)  # not an Exception: a thread would otherwise die silently

    with ReadAhead([3], read, threads=1, max_items=1) as ahead:
        outcome = ahead.take(0)
    assert isinstance(outcome.error, SystemExit)
