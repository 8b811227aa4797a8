"""File workers: each file is parsed and anonymized in a child process, within a time budget and a
memory limit, so that no single file can stall or take down an ingest (docs/architecture.md,
"Ingestion"). The children are fresh interpreters (`python -m ingest.file_worker_child`), never
forks: the parent holds torch and FAISS threads. `prepare` is thread-safe: N threads may keep N
children busy at once.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import logging
import math
import os
import pickle
import queue
import socket
import subprocess
import sys
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import NamedTuple

from ingest.loaders import DEFAULT_LIMITS, LoaderError, LoadLimits, Page
from rag.config import AnonymizeSettings, IngestSettings, Settings

log = logging.getLogger(__name__)

# Before its page count is known, a file is given the budget of one page per this many bytes
# (a PDF page is often 50-100 KB; text parses much faster than its size suggests).
BYTES_PER_PAGE_ESTIMATE = 50_000
# A child loads spaCy and Presidio before it serves: slow on a busy machine, never this slow.
STARTUP_TIMEOUT_S = 600.0
MB = 1024 * 1024
# A child's resident memory once its models are loaded (spaCy, Presidio): ~440 MiB measured on
# the 10-Q filings (bench/RESULTS.md, issue 19).
CHILD_MODELS_MIB = 440


@dataclass(frozen=True)
class PreparedText:
    """A file parsed and anonymized: what may leave the child process."""

    title: str
    pages: list[Page]
    pii_counts: Counter
    # token of a multi-word name -> the tokens of its words (rag/privacy/name_parts.py): tokens
    # only, never a value.
    name_parts: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class FileLimits:
    seconds_per_page: float = 10.0
    seconds_per_file: float = 60.0
    max_memory_mb: float = 2048.0
    load: LoadLimits = DEFAULT_LIMITS

    @classmethod
    def from_settings(cls, ingest: IngestSettings) -> FileLimits:
        return cls(
            seconds_per_page=ingest.seconds_per_page,
            seconds_per_file=ingest.seconds_per_file,
            max_memory_mb=ingest.max_file_memory_mb,
            load=LoadLimits(
                max_pages=ingest.max_pages,
                max_unpacked_mb=ingest.max_unpacked_mb,
                max_html_depth=ingest.max_html_depth,
            ),
        )

    def budget_s(self, pages: int) -> float:
        return self.seconds_per_file + self.seconds_per_page * pages


@dataclass(frozen=True)
class WorkerConfig:
    """Everything a child needs; pickled to it over its pipe."""

    anonymize: AnonymizeSettings
    secret: bytes
    limits: FileLimits = FileLimits()
    # A module-level function each child runs first (tests register loaders with it).
    setup: Callable[[], None] | None = None
    # The parent's token length (a store of shorter pseudonyms is written in its own length).
    pseudonym_chars: int | None = None

    @classmethod
    def for_ingest(
        cls,
        anonymize: AnonymizeSettings,
        secret: bytes,
        ingest: IngestSettings,
        pseudonym_chars: int,
    ) -> WorkerConfig:
        """What an ingest's children get, made one way for the pipeline and
        `start_ingest_pool` so that both find the same pool."""
        limits = FileLimits.from_settings(ingest)
        return cls(anonymize, secret, limits, pseudonym_chars=pseudonym_chars)

    def key(self) -> tuple:
        setup = f"{self.setup.__module__}.{self.setup.__qualname__}" if self.setup else None
        return (
            self.anonymize.model_dump_json(),
            self.secret,
            self.limits,
            setup,
            self.pseudonym_chars,
        )


def worker_count(ingest: IngestSettings, host: HostCapacity | None = None) -> int:
    """How many file workers an ingest runs: `ingest.file_workers`, or for auto one per CPU
    this process may use, no more than the free memory holds if each child took its models
    and the most one file may take (`max_file_memory_mb`), at least 1. `host`: the CPUs and
    free memory to size by; by default this process's (`host_capacity`)."""
    if isinstance(ingest.file_workers, int):
        return ingest.file_workers
    cpus, free_mib = host or host_capacity()
    if free_mib is not None:
        cpus = min(cpus, workers_memory_holds(ingest, free_mib))
    return max(1, cpus)


def worker_memory_mib(ingest: IngestSettings) -> float:
    """The most one file worker may hold: its models and one file at its memory limit."""
    return CHILD_MODELS_MIB + ingest.max_file_memory_mb


def workers_memory_holds(ingest: IngestSettings, free_mib: float) -> int:
    return int(free_mib // worker_memory_mib(ingest))


class HostCapacity(NamedTuple):
    cpus: int
    free_mib: float | None  # None: unknown (not Linux)


@functools.cache
def host_capacity() -> HostCapacity:
    """This process's CPUs and free memory (rag/host_resources.py), read once: a pool's size
    is part of its key (`shared_pool`), and free memory that moved between two jobs of a
    server must not start a second pool."""
    from rag import host_resources

    return HostCapacity(host_resources.usable_cpus(), host_resources.available_memory_mib())


class FileOverBudget(LoaderError):
    """The file took more time or memory than it may; its child was replaced."""


class FileWorkerUnavailable(RuntimeError):
    """A child could not be started (its anonymizer failed to load)."""


class FileWorkerPool:
    def __init__(self, config: WorkerConfig, size: int = 1) -> None:
        self.config = config
        self.size = size
        self._idle: queue.Queue[_Child | None] = queue.Queue()
        for _ in range(size):
            self._idle.put(None)  # a place for a child, started on first use

    @property
    def children_running(self) -> int:
        """Idle children started and alive (a busy one is out of the queue)."""
        return sum(1 for child in list(self._idle.queue) if child is not None and child.alive())

    def start(self) -> None:
        """Start every child now, without waiting for it: each loads its models (seconds) while
        the caller goes on loading its own."""
        for _ in range(self.size):
            try:
                child = self._idle.get_nowait()
            except queue.Empty:
                return  # taken by a running prepare, which starts it itself
            if child is None or not child.alive():
                child = _Child(self.config)
            self._idle.put(child)

    def prepare(self, path: Path, data: bytes | None = None) -> PreparedText:
        """Parse and anonymize one file in a child: `data`, the file's bytes as the parent read
        them (ingest/contained.py), or else the file at `path`. Raises LoaderError
        (FileOverBudget past the limits) or the OSError of a missing or unreadable file."""
        child = self._idle.get()
        try:
            if child is None or not child.alive():
                child = _Child(self.config)
            child.wait_ready()
            result, keep = child.run(Path(path), self.config.limits, data)
            if not keep:
                child.kill()
                child = None
            return result
        except BaseException:
            if child is not None and not child.clean:
                child.kill()
                child = None
            raise
        finally:
            self._idle.put(child)

    def close(self) -> None:
        """Stop the idle children, all at once (each takes a moment to exit); the pool starts
        new ones if it is used again."""
        taken, stopping = 0, []
        for _ in range(self.size):
            try:
                child = self._idle.get(timeout=1)
            except queue.Empty:
                continue  # in use by a running prepare: it is stopped with the process
            taken += 1
            if child is not None:
                child.ask_to_stop()
                stopping.append(child)
        for child in stopping:
            child.wait_stopped()
        for _ in range(taken):
            self._idle.put(None)


class _Child:
    """One worker process and the parent's end of its pipe."""

    def __init__(self, config: WorkerConfig) -> None:
        ours, theirs = socket.socketpair()
        # The child sees the parent's import path (tests register loaders from theirs).
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        # One core per worker (the pool is sized to the cores): numpy's BLAS, which spaCy's
        # models use (rag/privacy/nlp_engine.py), must not start a thread per core in each.
        env["OPENBLAS_NUM_THREADS"] = "1"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ingest.file_worker_child", str(theirs.fileno())],
            pass_fds=(theirs.fileno(),),
            env=env,
            stdin=subprocess.DEVNULL,
        )
        theirs.close()
        self.conn = Connection(ours.detach())
        self.conn.send_bytes(pickle.dumps(config))
        self.ready = False
        self.clean = True  # False while a file is in flight: an exception must kill the child

    def alive(self) -> bool:
        return self.process.poll() is None

    def wait_ready(self) -> None:
        if self.ready:
            return
        if not self.conn.poll(STARTUP_TIMEOUT_S):
            self.kill()
            raise FileWorkerUnavailable(f"a file worker did not start in {STARTUP_TIMEOUT_S:g} s")
        try:
            kind, value = self.conn.recv()
        except EOFError:
            kind, value = "failed", _exit(self.process)
        if kind != "ready":
            self.kill()
            raise FileWorkerUnavailable(f"a file worker could not start: {value}")
        self.ready = True

    def run(
        self, path: Path, limits: FileLimits, data: bytes | None = None
    ) -> tuple[PreparedText, bool]:
        """The prepared file, and whether this child may serve another one."""
        size = len(data) if data is not None else path.stat().st_size
        estimate = max(1, math.ceil(size / BYTES_PER_PAGE_ESTIMATE))
        pages: int | None = None
        self.clean = False
        self.conn.send((str(path), data))
        started = time.monotonic()
        while True:
            budget = limits.budget_s(pages if pages is not None else estimate)
            if not self.conn.poll(max(0.0, started + budget - time.monotonic())):
                raise FileOverBudget(_over_time(budget, pages, estimate))
            try:
                kind, value = self.conn.recv()
            except EOFError:
                raise LoaderError(
                    f"the process reading this file ended unexpectedly ({_exit(self.process)}); "
                    f"it may have needed more than {limits.max_memory_mb:g} MB "
                    "(ingest.max_file_memory_mb)"
                ) from None
            if kind == "pages":
                pages = value
                continue
            if kind == "memory":
                raise FileOverBudget(
                    f"needed more than {limits.max_memory_mb:g} MB (ingest.max_file_memory_mb)"
                )
            self.clean = True
            if kind == "error":
                raise value
            return value, True

    def ask_to_stop(self) -> None:
        with contextlib.suppress(OSError, ValueError):  # gone already: wait_stopped reaps it
            self.conn.send(None)

    def wait_stopped(self) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(5)
        self.kill()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.conn.close()


def _over_time(budget: float, pages: int | None, estimate: int) -> str:
    if pages is not None:
        return f"took longer than {budget:g} s for {pages} pages (ingest.seconds_per_page)"
    return (
        f"took longer than {budget:g} s to read, estimated at {estimate} pages from its size "
        "(ingest.seconds_per_page)"
    )


def _exit(process: subprocess.Popen) -> str:
    try:
        code = process.wait(5)
    except subprocess.TimeoutExpired:
        return "still running"
    return f"signal {-code}" if code < 0 else f"exit code {code}"


# -- a shared pool per configuration ---------------------------------------------------------

_POOLS: OrderedDict[tuple, FileWorkerPool] = OrderedDict()
_POOLS_LOCK = threading.Lock()
# Each child holds its own spaCy model: keep the pools of few configurations alive.
MAX_POOLS = 2


def shared_pool(config: WorkerConfig, size: int) -> FileWorkerPool:
    """The process-wide pool for this configuration: every pipeline of a process uses the same
    children, so models load once per child, not once per scan."""
    key = (config.key(), size)
    with _POOLS_LOCK:
        pool = _POOLS.get(key)
        if pool is None:
            pool = _POOLS[key] = FileWorkerPool(config, size)
        _POOLS.move_to_end(key)
        while len(_POOLS) > MAX_POOLS:
            _POOLS.popitem(last=False)[1].close()
        return pool


def start_ingest_pool(settings: Settings) -> FileWorkerPool:
    """The pool an ingest with `settings` uses (IngestPipeline.file_workers), its children
    started now: they load their models while the caller loads its own, instead of after."""
    from rag.privacy.operators.pseudonymize import PSEUDONYM_CHARS
    from rag.privacy.secret import load_or_create_secret

    secret = load_or_create_secret(settings.anonymize.secret_key, settings.data_dir)
    config = WorkerConfig.for_ingest(settings.anonymize, secret, settings.ingest, PSEUDONYM_CHARS)
    pool = shared_pool(config, worker_count(settings.ingest))
    pool.start()
    return pool


@atexit.register
def _close_pools() -> None:
    with _POOLS_LOCK:
        for pool in _POOLS.values():
            pool.close()
