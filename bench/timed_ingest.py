"""`rag ingest FOLDER` with the time of each stage measured, for bench/peer_ingest.py.

    PYTHONPATH=CODE_DIR python bench/timed_ingest.py FOLDER

Runs the CLI command of whichever checkout PYTHONPATH names (so the code before a change can be
measured the same way), with timers wrapped around the parts every version has: the file
workers' `prepare` (parse + remove personal data, in a worker process), `chunk_pages`, and the
pipeline embedder's `embed`, and, where the stages overlap (ingest/read_ahead.py), the time the
pipeline waits for the file workers (`wait_for_reads`). Without overlap, what is left of the
ingest time is hashing, SQL writes and the index; with it, `read_anonymize` is the workers'
busy time, partly hidden behind the embedding, and what is left is ingest time minus
wait_for_reads, chunk and embed. Prints one JSON line on stdout at the end:
{"stages": {name: seconds}}.
"""

from __future__ import annotations

import json
import sys
import time
from collections import defaultdict

STAGES: dict[str, float] = defaultdict(float)


def _timed(name, function):
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            STAGES[name] += time.perf_counter() - started

    return wrapper


def main() -> None:
    import rag.cli

    if hasattr(rag.cli, "keep_torch_out"):  # as the `rag` command does (older checkouts: no)
        rag.cli.keep_torch_out(["ingest"])
    import ingest.pipeline as pipeline
    from ingest.file_workers import FileWorkerPool
    from rag.cli import app

    FileWorkerPool.prepare = _timed("read_anonymize", FileWorkerPool.prepare)
    pipeline.chunk_pages = _timed("chunk", pipeline.chunk_pages)
    original_init = pipeline.IngestPipeline.__init__

    def init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        # The instance's embedder only: questions and re-embeds elsewhere are not counted.
        self.embedder.embed = _timed("embed", self.embedder.embed)

    pipeline.IngestPipeline.__init__ = init
    try:
        from ingest.read_ahead import ReadAhead
    except ImportError:  # a checkout from before the stages overlapped
        pass
    else:
        ReadAhead.take = _timed("wait_for_reads", ReadAhead.take)
    try:
        app(["ingest", sys.argv[1]], standalone_mode=False)
    finally:
        print(json.dumps({"stages": {k: round(v, 2) for k, v in STAGES.items()}}), flush=True)


if __name__ == "__main__":
    main()
