"""The child side of ingest/file_workers.py: build the anonymizer once, then parse and anonymize
one file per request, under a memory limit, and send back the text or the reason it failed.

Messages to the parent: ("ready", None) once; per file ("pages", n) when parsed, then
("done", PreparedText), ("error", LoaderError | OSError) or ("memory", None).
"""

from __future__ import annotations

import logging
import os
import pickle
import resource
import sys
import threading
from collections import Counter
from multiprocessing.connection import Connection
from pathlib import Path

from ingest.file_workers import PreparedText, WorkerConfig
from ingest.loaders import LoaderError, Page, load_document
from rag.privacy.name_parts import NAME_TYPES, lowercase_words, name_parts
from rag.torch_free import anonymizing_needs_torch, block_torch

log = logging.getLogger(__name__)
# Run once before the limit is measured, so lazily made thread pools and caches count as
# the models' memory, not the first file's.
_WARM_UP = "Warm-up text for Jane Doe at jane.doe@example.com, phone 555-0100."


def main(fd: int) -> None:
    conn = Connection(fd)
    config: WorkerConfig = pickle.loads(conn.recv_bytes())
    if not anonymizing_needs_torch(config.anonymize):
        block_torch()  # 5+ s and hundreds of MB per child otherwise (rag/torch_free.py)
    serve(conn, config)


def serve(conn: Connection, config: WorkerConfig) -> None:
    from rag.privacy.anonymizer import Anonymizer

    _exit_with_parent()
    try:
        if config.setup is not None:
            config.setup()
        anonymizer = Anonymizer(config.anonymize, config.secret)
        if config.pseudonym_chars:
            anonymizer = anonymizer.with_pseudonym_chars(config.pseudonym_chars)
        anonymizer.anonymize(_WARM_UP)
    except Exception as exc:  # reported to the parent, which fails the job with it
        conn.send(("failed", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("ready", None))
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        path, data = request
        conn.send(_prepare(Path(path), data, anonymizer, config, conn))


def _prepare(path: Path, data: bytes | None, anonymizer, config: WorkerConfig, conn) -> tuple:
    limits = config.limits
    try:
        with _memory_limit(limits.max_memory_mb):
            loaded = load_document(path, limits.load, data)
            del data
            conn.send(("pages", len(loaded.pages)))
            # One call for the whole document: spaCy reads its texts in batches. The
            # headings travel into each chunk's stored header: anonymized too (their values
            # are counted once, in the page text that holds them).
            headings = [page.heading for page in loaded.pages if page.heading]
            texts = [page.text for page in loaded.pages] + headings + [loaded.title]
            results = anonymizer.anonymize_many(texts)
            count = len(loaded.pages)
            anonymized_headings = iter(r.text for r in results[count:-1])
            counts: Counter = Counter()
            pages: list[Page] = []
            for page, result in zip(loaded.pages, results[:count], strict=True):
                counts.update(result.counts)
                heading = next(anonymized_headings) if page.heading else None
                pages.append(Page(page.number, result.text, heading))
            title = results[-1].text
            parts = {}
            if config.anonymize.name_parts_in_headers:
                plain = set().union(*(lowercase_words(result.text) for result in results))
                for result in results:
                    parts.update(
                        name_parts(result.originals, anonymizer.pseudonymize, NAME_TYPES, plain)
                    )
            del loaded, texts, results
    except MemoryError:
        return ("memory", None)
    except LoaderError as exc:
        return ("error", exc)
    except OSError as exc:  # its type, errno and wording travel, never a path
        return ("error", type(exc)(exc.errno, exc.strerror))
    except RecursionError:
        return ("error", LoaderError("file is nested too deeply to be read"))
    except Exception as exc:
        # Neither the traceback nor the text: either may quote the document.
        # No file name either: it may be a person's (the parent records the anonymized path).
        log.warning("unexpected %s while anonymizing a file", type(exc).__name__)
        return ("error", LoaderError(f"internal error while anonymizing ({type(exc).__name__})"))
    return ("done", PreparedText(title, pages, counts, parts))


class _memory_limit:  # noqa: N801 - used as a context manager
    """RLIMIT_AS of this process: what it uses now plus `mb`, lifted again on exit.
    Linux only (elsewhere the limit is not enforced and files are bounded by time alone)."""

    def __init__(self, mb: float) -> None:
        self.mb = mb

    def __enter__(self) -> None:
        self.previous = resource.getrlimit(resource.RLIMIT_AS)
        used = _address_space_bytes()
        if used is None:
            return
        limit = used + int(self.mb * 1024 * 1024)
        hard = self.previous[1]
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))

    def __exit__(self, *_exc) -> None:
        resource.setrlimit(resource.RLIMIT_AS, self.previous)


def _address_space_bytes() -> int | None:
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE")


def _exit_with_parent() -> None:
    """A child whose parent died (kill -9) must not run on: a thread watches for it."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            threading.Event().wait(2.0)
            if os.getppid() != parent:
                os._exit(0)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    main(int(sys.argv[1]))
