"""The ingestion worker: claims jobs from SQL with a lease, runs them, survives crashes.

Run as `rag worker` (any number of them on PostgreSQL), or as a thread inside the API server on
the embedded default. A heartbeat thread renews the lease while a long document is embedded, so
only a worker that is really gone loses its job to another.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from ingest.pipeline import IngestPipeline
from ingest.report import IngestReport
from ingest.scan import SourceUnavailable
from rag import jobs
from rag.config import WorkerSettings
from rag.db.models import Job, Source
from rag.db.session import transaction

log = logging.getLogger(__name__)
# The status a job stopped by its worker's shutdown reports: not an end, it is queued again.
HANDED_BACK = "handed back"


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class JobFailed(RuntimeError):
    """The job cannot go on; the message is shown to the admin."""


class Worker:
    def __init__(
        self,
        settings: WorkerSettings,
        session_factory: sessionmaker[Session],
        pipeline: Callable[[], IngestPipeline],
        *,
        scan_interval_s: int | None = None,
        name: str | None = None,
    ) -> None:
        self.settings = settings
        self.session_factory = session_factory
        # A callable, so the models load only when there is a job that needs them.
        self._pipeline = pipeline
        self.scan_interval_s = scan_interval_s
        self.name = name or worker_name()

    def run(self, stop: threading.Event, *, once: bool = False) -> int:
        """Run jobs until `stop` is set (or, with once, until the queue is empty). A job
        running when `stop` is set ends after its current file and goes back to the queue."""
        done = 0
        while not stop.is_set():
            with transaction(self.session_factory) as session:
                jobs.enqueue_due_scans(session, self.scan_interval_s)
            if self.run_next(stop=stop) is not None:
                done += 1
                continue
            if once:
                break
            stop.wait(self.settings.poll_s)
        return done

    def run_next(
        self, job_id: int | None = None, stop: threading.Event | None = None
    ) -> Job | None:
        """Claim one job (a given one, if job_id) and run it to its end, or until `stop`."""
        job = jobs.claim(
            self.session_factory,
            self.name,
            self.settings.lease_s,
            max_attempts=self.settings.max_attempts,
            job_id=job_id,
        )
        if job is None:
            return None
        log.info("job %d (%s) claimed by %s, attempt %d", job.id, job.kind, self.name, job.attempts)
        run = _JobRun(self, job, stop or threading.Event())
        run.execute()
        return job


class _JobRun:
    """One job being run: its progress, its heartbeat, its end."""

    def __init__(self, worker: Worker, job: Job, shutdown: threading.Event) -> None:
        self.worker = worker
        self.job = job
        self.shutdown = shutdown
        self.cancel_requested = False
        self.lease_lost = False
        self._progress: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._stop_heartbeat = threading.Event()

    def execute(self) -> None:
        heartbeat = threading.Thread(target=self._heartbeat, daemon=True, name="job-heartbeat")
        heartbeat.start()
        try:
            status, error = self._dispatch()
        except jobs.LeaseLost:
            log.warning("job %d was taken over by another worker; stopping", self.job.id)
            return
        except JobFailed as exc:
            status, error = "failed", str(exc)
        except Exception as exc:  # a job must end with a status, never hang as "running"
            # The type only: a message or a traceback's values may quote a document or a path.
            log.error("job %d failed: internal error (%s)", self.job.id, type(exc).__name__)
            status, error = "failed", f"internal error ({type(exc).__name__})"
        finally:
            self._stop_heartbeat.set()
            heartbeat.join()
        if self.lease_lost:
            return
        self._flush()  # also learns of a cancel that came with the stop
        if status == HANDED_BACK:
            if not self.cancel_requested:
                jobs.release(self.worker.session_factory, self.job.id, self.worker.name)
                log.info("job %d goes back to the queue: this worker is stopping", self.job.id)
                return
            status = "cancelled"
        jobs.finish(self.worker.session_factory, self.job.id, self.worker.name, status, error)
        log.info("job %d finished: %s", self.job.id, status)

    def _dispatch(self) -> tuple[str, str | None]:
        kind = self.job.kind
        if kind == "scan":
            return self._scan()
        if kind == "reembed":
            return self._reembed()
        if kind == "reprocess":
            return self._reprocess()
        raise JobFailed(f"unknown job kind '{kind}'")

    # -- kinds -----------------------------------------------------------------------------

    def _scan(self) -> tuple[str, str | None]:
        with self.worker.session_factory() as session:
            source = session.get(Source, self.job.source_id) if self.job.source_id else None
        if source is None:
            raise JobFailed("the source of this job no longer exists")
        if source.status == "paused":
            # By id: a source's name is its folder's by default, and may be a person's.
            raise JobFailed(f"source {source.id} is paused; resume it to scan it")
        try:
            report = self.worker._pipeline().ingest_source(
                source.id, self._on_progress, should_stop=self._should_stop
            )
        except SourceUnavailable as exc:
            raise JobFailed(str(exc)) from exc
        if report.stopped:
            return self._stopped_status(), None
        return "succeeded", None

    def _reembed(self) -> tuple[str, str | None]:
        from ingest.reembed import reembed_all

        pipeline = self.worker._pipeline()

        def on_progress(done: int, total: int) -> None:
            self._set(done=done, total=total)
            self._flush()

        report = reembed_all(
            self.worker.session_factory,
            pipeline.embedder,
            on_progress=on_progress,
            should_stop=self._should_stop,
        )
        return (self._stopped_status(), None) if not report.finished else ("succeeded", None)

    def _reprocess(self) -> tuple[str, str | None]:
        """Every document of another pipeline version made again (ingest/reprocess.py)."""
        from ingest.reprocess import reprocess_all

        report = reprocess_all(
            self.worker._pipeline(), self._on_progress, should_stop=self._should_stop
        )
        return (self._stopped_status(), None) if report.stopped else ("succeeded", None)

    # -- progress --------------------------------------------------------------------------

    def _on_progress(self, done: int, total: int, current: str, report: IngestReport) -> None:
        errors = [
            {"path": f.path, "reason": f.reason, "document_id": f.document_id}
            for f in report.failed + report.skipped
        ]
        self._set(
            done=done,
            total=total,
            current=current or None,
            chunks_written=report.chunks,
            errors=errors[: jobs.MAX_RECORDED_ERRORS],
        )
        self._flush()

    def _should_stop(self) -> bool:
        if self.lease_lost:
            raise jobs.LeaseLost(f"job {self.job.id} was taken over")
        return self.cancel_requested or self.shutdown.is_set()

    def _stopped_status(self) -> str:
        # An admin's cancel wins over a worker that is merely shutting down.
        return "cancelled" if self.cancel_requested else HANDED_BACK

    def _set(self, **fields: Any) -> None:
        with self._lock:
            self._progress.update(fields)

    def _flush(self) -> None:
        """Write pending progress and renew the lease; learn whether to cancel."""
        with self._lock:
            fields, self._progress = self._progress, {}
        try:
            cancel = jobs.report_progress(
                self.worker.session_factory,
                self.job.id,
                self.worker.name,
                self.worker.settings.lease_s,
                **fields,
            )
        except jobs.LeaseLost:
            self.lease_lost = True
            raise
        self.cancel_requested = self.cancel_requested or cancel

    def _heartbeat(self) -> None:
        interval = max(self.worker.settings.lease_s / 3, 0.2)
        while not self._stop_heartbeat.wait(interval):
            try:
                self._flush()
            except jobs.LeaseLost:
                return
            except Exception as exc:  # a database hiccup: the next beat tries again
                # The type only: a database error's text may quote the values it was given.
                log.warning(
                    "job %d: could not renew the lease (%s)", self.job.id, type(exc).__name__
                )
