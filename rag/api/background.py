"""The in-process worker: on the embedded default the API server indexes too, in a thread."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from rag.service import RagService

log = logging.getLogger(__name__)


@dataclass
class BackgroundWorker:
    thread: threading.Thread
    stop: threading.Event

    def shutdown(self, timeout: float = 30.0) -> None:
        """Stop after the current file (its transaction commits or rolls back whole)."""
        self.stop.set()
        self.thread.join(timeout)


def start_background_worker(service: RagService) -> BackgroundWorker:
    stop = threading.Event()
    worker = service.worker()

    def run() -> None:
        try:
            worker.run(stop)
        except Exception as exc:  # keep serving queries; the log says why indexing stopped
            # The type only: the message of a database error may quote a stored value.
            log.error("the in-process worker stopped: %s", type(exc).__name__)

    thread = threading.Thread(target=run, name="rag-worker", daemon=True)
    thread.start()
    log.info("in-process worker %s started", worker.name)
    return BackgroundWorker(thread, stop)
