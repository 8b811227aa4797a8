"""Stopping a long-running command on SIGTERM or Ctrl-C: gently the first time, at once the second.

`docker stop` and systemd send SIGTERM and wait a while; an admin presses Ctrl-C. Either asks
the worker to finish its current file and hand its job back to the queue. A second signal quits
without waiting: the job's lease then expires and the next worker redoes only that file.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@contextmanager
def stop_on_signals(
    stop: threading.Event,
    say: Callable[[str], None] = print,
    quit_now: Callable[[int], None] = os._exit,
) -> Iterator[None]:
    """Within the block, the first SIGTERM/SIGINT sets `stop` and the second calls
    `quit_now(128 + signal number)`. Must be entered in the main thread.

    The handler only writes to a pipe and a thread sets the event: a handler calling
    stop.set() itself can deadlock, because handlers run in the main thread, which may be
    holding the event's own lock inside stop.wait() at that moment."""
    read_fd, write_fd = os.pipe()

    def handle(signum: int, _frame: object) -> None:
        os.write(write_fd, bytes([signum]))

    def relay() -> None:
        try:
            first = os.read(read_fd, 1)
            if not first:  # the block ended without a signal
                return
            say("stopping after the current file; press Ctrl-C again to quit now")
            stop.set()
            second = os.read(read_fd, 1)
            if second:
                say("quitting now; the next worker redoes the current file")
                quit_now(128 + second[0])
        finally:
            os.close(read_fd)

    previous = {sig: signal.signal(sig, handle) for sig in STOP_SIGNALS}
    watcher = threading.Thread(target=relay, name="stop-signals", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        os.close(write_fd)  # ends the relay's read if no second signal came
        watcher.join(timeout=1)
