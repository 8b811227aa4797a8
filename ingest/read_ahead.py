"""Files read ahead of the embedding: while the pipeline embeds and writes one batch, a few
threads keep the file workers (ingest/file_workers.py) parsing and anonymizing the next files.

Results are taken in the files' order. Read-ahead is bounded twice, so memory stays bounded
whatever the folder holds: at most `max_items` files started and not yet taken, and no new file
started while the results waiting hold `max_weight` or more (text characters). A read's
exception is its result: one bad file fails alone, when its turn comes.

Closing (the scan stopped, or failed) starts no further file and does not wait: a read in
flight finishes in its thread and its result is dropped, so a stop is as prompt as before and
leaves exactly the files the scan had reached written; the next scan reads the others.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Outcome(Generic[R]):
    """A read's result, or the exception it raised."""

    value: R | None = None
    error: BaseException | None = None

    def get(self) -> R:
        if self.error is not None:
            raise self.error
        return self.value


def outcome_of(read: Callable[[T], R], item: T) -> Outcome[R]:
    try:
        return Outcome(value=read(item))
    except Exception as exc:  # handed to the caller, in order, with the item it belongs to
        return Outcome(error=exc)


class ReadAhead(Generic[T, R]):
    def __init__(
        self,
        items: Sequence[T],
        read: Callable[[T], R],
        threads: int,
        max_items: int,
        max_weight: float = float("inf"),
        weight: Callable[[R], float] = lambda _: 0.0,
    ) -> None:
        if threads < 1 or max_items < 1:
            raise ValueError("read-ahead needs at least one thread and one item")
        self._items, self._read, self._weight = items, read, weight
        self._threads = min(threads, len(items))
        self._max_items, self._max_weight = max_items, max_weight
        self._changed = threading.Condition()
        self._next = 0  # the next item a thread starts
        self._taken = 0  # the next item take() hands out
        self._done: dict[int, tuple[Outcome[R], float]] = {}
        self._waiting_weight = 0.0
        self._closed = False
        self._started = False

    def take(self, index: int) -> Outcome[R]:
        """Item `index`'s outcome, waiting for it; items are taken in order, each once. The
        threads start on the first call: nothing is read before the caller asks."""
        if index != self._taken:
            raise ValueError(f"items are taken in order: expected {self._taken}, got {index}")
        with self._changed:
            if self._closed:
                raise RuntimeError("read-ahead is closed")
            if not self._started:
                self._start()
            while index not in self._done:
                self._changed.wait()
            outcome, weight = self._done.pop(index)
            self._taken += 1
            self._waiting_weight -= weight
            self._changed.notify_all()
        return outcome

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._done.clear()
            self._changed.notify_all()

    def __enter__(self) -> ReadAhead[T, R]:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def _start(self) -> None:
        self._started = True
        for number in range(self._threads):
            # Daemon: a read in flight when the scan stops must not hold the process's exit.
            threading.Thread(target=self._run, name=f"read-ahead-{number}", daemon=True).start()

    def _may_start(self) -> bool:
        return self._next < len(self._items) and (
            self._next == self._taken  # the item the caller waits for always starts
            or (
                self._next - self._taken < self._max_items
                and self._waiting_weight < self._max_weight
            )
        )

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._closed and not self._may_start():
                    if self._next >= len(self._items):
                        return
                    self._changed.wait()
                if self._closed:
                    return
                index = self._next
                self._next += 1
            try:
                outcome = Outcome(value=self._read(self._items[index]))
                weight = self._weight(outcome.value)
            except BaseException as exc:  # the caller, waiting, must get it
                outcome, weight = Outcome(error=exc), 0.0
            with self._changed:
                if self._closed:
                    return
                self._done[index] = (outcome, weight)
                self._waiting_weight += weight
                self._changed.notify_all()
