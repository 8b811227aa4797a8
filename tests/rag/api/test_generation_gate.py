"""The generation gate on its own: slots, the bounded queue, refusal at once, the timeout that
stops a generation, and slots freed only when the model is."""

from __future__ import annotations

import threading
import time

import pytest

from rag.api.generation_gate import GenerationBusy, GenerationGate, GenerationTimedOut
from tests.rag.api.conftest import wait_until


def _held(release: threading.Event, pieces=("a", "b")):
    def gen():
        release.wait(30)
        yield from pieces

    return gen()


def test_slots_then_queue_then_refusal():
    gate = GenerationGate(max_concurrent=1, queue_size=1, timeout_s=30)
    release = threading.Event()
    results: list[str] = []

    def answer() -> None:
        results.append("".join(gate.admit().run(_held(release))))

    threads = [threading.Thread(target=answer) for _ in range(2)]
    for thread in threads:
        thread.start()
    wait_until(lambda: gate.running == 1 and gate.waiting == 1)
    with pytest.raises(GenerationBusy) as busy:
        gate.admit()
    assert busy.value.retry_after_s >= 1
    release.set()
    for thread in threads:
        thread.join(10)
    assert results == ["ab", "ab"]
    assert gate.running == gate.waiting == 0
    gate.admit().release()  # room again; an unused ticket gives its place back
    assert gate.waiting == 0


def test_a_generation_past_the_timeout_is_stopped_and_reported():
    gate = GenerationGate(max_concurrent=1, queue_size=0, timeout_s=0.2)
    closed = threading.Event()

    def slow():
        try:
            while True:
                time.sleep(0.05)
                yield "x"
        finally:
            closed.set()

    with pytest.raises(GenerationTimedOut, match="longer than 0.2 s"):
        "".join(gate.admit().run(slow()))
    # The backend's stream is closed (the model stops) and only then is the slot free again.
    assert closed.wait(5)
    wait_until(lambda: gate.running == 0)
    assert "".join(gate.admit().run(iter(["ok"]))) == "ok"


def test_a_failing_generation_frees_its_slot_and_reports_the_error():
    gate = GenerationGate(max_concurrent=1, queue_size=0, timeout_s=5)

    def failing():
        yield "a"
        raise ValueError("model fell over")

    with pytest.raises(ValueError, match="fell over"):
        list(gate.admit().run(failing()))
    wait_until(lambda: gate.running == 0)
    assert list(gate.admit().run(iter(["b"]))) == ["b"]


def test_a_reader_that_stops_early_frees_the_slot():
    gate = GenerationGate(max_concurrent=1, queue_size=0, timeout_s=5)
    closed = threading.Event()

    def endless():
        try:
            while True:
                yield "x"
        finally:
            closed.set()

    pieces = gate.admit().run(endless())
    assert next(pieces) == "x"
    pieces.close()  # the client went away
    assert closed.wait(5)
    wait_until(lambda: gate.running == 0)


def test_bad_settings_are_refused():
    with pytest.raises(ValueError):
        GenerationGate(max_concurrent=0, queue_size=1, timeout_s=1)
