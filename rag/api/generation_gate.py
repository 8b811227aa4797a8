"""The generation gate: at most `max_concurrent` LLM generations run, at most `queue_size` more
wait, and anything beyond is refused at once (the API answers 429 with Retry-After).

Retrieval never passes through here, so searches are not blocked by generation.

A generation runs in a thread of its own and the request reads its pieces from a queue with a
deadline, so a generation past `timeout_s` is reported on time even while the model is inside
one long step; the thread stops it at the next piece (closing the backend's stream) and frees
the slot only then, when the model really is free again.
"""

from __future__ import annotations

import math
import queue
import threading
import time
from collections.abc import Iterator

# Before any generation has been timed, Retry-After assumes this many seconds per answer.
DEFAULT_GENERATION_S = 5.0


class GenerationBusy(RuntimeError):
    """Every generation slot and queue place is taken."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(
            f"too many questions are waiting for the answer generator: retry in {retry_after_s} s"
        )
        self.retry_after_s = retry_after_s


class GenerationTimedOut(RuntimeError):
    """The generation ran past its time limit and was stopped."""


class GenerationGate:
    def __init__(self, max_concurrent: int, queue_size: int, timeout_s: float) -> None:
        if max_concurrent < 1 or queue_size < 0 or timeout_s <= 0:
            raise ValueError("need max_concurrent >= 1, queue_size >= 0 and timeout_s > 0")
        self.max_concurrent = max_concurrent
        self.queue_size = queue_size
        self.timeout_s = timeout_s
        self._slots = threading.Semaphore(max_concurrent)
        self._lock = threading.Lock()
        self._admitted = 0  # running + waiting
        self._running = 0
        self._mean_s = DEFAULT_GENERATION_S

    @property
    def running(self) -> int:
        return self._running

    @property
    def waiting(self) -> int:
        return self._admitted - self._running

    def admit(self) -> Ticket:
        """A place in the gate, or GenerationBusy at once when there is none."""
        with self._lock:
            if self._admitted >= self.max_concurrent + self.queue_size:
                raise GenerationBusy(self._retry_after())
            self._admitted += 1
        return Ticket(self)

    def check_room(self) -> None:
        """GenerationBusy when admit would refuse now; takes no place (a request checks this
        before any work, and admits later)."""
        with self._lock:
            if self._admitted >= self.max_concurrent + self.queue_size:
                raise GenerationBusy(self._retry_after())

    def _retry_after(self) -> int:
        # Roughly when a place frees up: the waiting answers ahead, at the recent mean length.
        rounds = (self.waiting + 1) / self.max_concurrent
        return max(1, math.ceil(rounds * min(self._mean_s, self.timeout_s)))

    def _start(self) -> None:
        self._slots.acquire()
        with self._lock:
            self._running += 1

    def _finish(self, seconds: float | None) -> None:
        with self._lock:
            self._running -= 1
            self._admitted -= 1
            if seconds is not None:
                self._mean_s = 0.8 * self._mean_s + 0.2 * seconds
        self._slots.release()

    def _leave_queue(self) -> None:
        with self._lock:
            self._admitted -= 1


class Ticket:
    """One admitted generation: `run` it once, or `release` it unused."""

    def __init__(self, gate: GenerationGate) -> None:
        self._gate = gate
        self._used = False

    def release(self) -> None:
        """Give the place back without generating (e.g. nothing relevant was found)."""
        if not self._used:
            self._used = True
            self._gate._leave_queue()

    def run(self, tokens: Iterator[str]) -> Iterator[str]:
        """Wait for a slot, then yield the pieces of `tokens`; raises GenerationTimedOut when
        they run past the gate's timeout (the generation is stopped)."""
        if self._used:
            raise RuntimeError("a ticket runs one generation")
        self._used = True
        gate = self._gate
        try:
            gate._start()  # waits while the slots are taken: this is the queue
        except BaseException:
            gate._leave_queue()
            raise
        pieces: queue.Queue[tuple[str, object]] = queue.Queue()
        stop = threading.Event()
        thread = threading.Thread(
            target=_produce, args=(gate, tokens, pieces, stop), name="generation", daemon=True
        )
        thread.start()
        deadline = time.monotonic() + gate.timeout_s
        try:
            while True:
                try:
                    kind, value = pieces.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    raise GenerationTimedOut(
                        f"the answer took longer than {gate.timeout_s:g} s and was stopped"
                    ) from None
                if kind == "piece":
                    yield value  # type: ignore[misc]
                elif kind == "end":
                    return
                else:
                    raise value  # type: ignore[misc]
        finally:
            stop.set()  # timed out, failed or the client went away: stop the model too


def _produce(
    gate: GenerationGate,
    tokens: Iterator[str],
    pieces: queue.Queue[tuple[str, object]],
    stop: threading.Event,
) -> None:
    started = time.monotonic()
    completed = False
    try:
        for piece in tokens:
            if stop.is_set():
                break
            pieces.put(("piece", piece))
        else:
            completed = True
        pieces.put(("end", None))
    except Exception as exc:  # handed to the request, which reports it
        pieces.put(("error", exc))
    finally:
        close = getattr(tokens, "close", None)
        if close is not None:
            close()  # ends the backend's generation and releases its model
        gate._finish(time.monotonic() - started if completed else None)
