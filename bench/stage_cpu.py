"""CPU seconds of each ingest stage on one core, in one process, over a folder.

    PYTHONPATH=CODE_DIR python bench/stage_cpu.py [FOLDER]

Reads each file (the loader), anonymizes its pages and title, chunks them with their headers
and embeds the passages with one ONNX Runtime thread, as the pipeline does but one stage after
the other, so each stage's `time.process_time()` is its own: a machine's load and the overlap
of the stages (bench/peer_ingest.py measures those) do not blur it. Prints one JSON line:
{"stages": {name: CPU seconds}, "chunks": n, "tokens": n}.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

# One core's work: numpy's BLAS (spaCy's models) must not start a thread per core.
os.environ["OPENBLAS_NUM_THREADS"] = "1"

DEFAULT_FOLDER = Path(__file__).resolve().parents[2] / "shared" / "eval" / "sec-10q-2022q3"


def main() -> None:
    from ingest.chunk import chunk_context, chunk_pages
    from ingest.loaders import Page, load_document
    from ingest.prepared import PreparedFile
    from rag.config import Settings
    from rag.embed import load_embedder
    from rag.privacy.anonymizer import Anonymizer

    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_FOLDER
    settings = Settings(embedding={"onnx_threads": 1})
    anonymizer = Anonymizer(settings.anonymize, b"stage-cpu-fixed-key")
    anonymizer.anonymize("Warm-up text for Jane Doe.")
    embedder = load_embedder(settings.embedding)
    embedder.embed(["warm-up"])
    stages = dict.fromkeys(("read", "anonymize", "chunk", "embed"), 0.0)
    chunks = tokens = 0
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        started = time.process_time()
        loaded = load_document(path)
        stages["read"] += time.process_time() - started

        started = time.process_time()
        found = anonymizer.anonymize_many([page.text for page in loaded.pages] + [loaded.title])
        stages["anonymize"] += time.process_time() - started
        texts = [result.text for result in found]
        pages = [
            Page(page.number, text, page.heading)
            for page, text in zip(loaded.pages, texts, strict=False)  # the title is last
        ]
        title = found[-1].text

        started = time.process_time()
        pieces = chunk_pages(
            pages,
            embedder.tokenizer,
            settings.chunking.chunk_tokens,
            settings.chunking.overlap_tokens,
            overlap_always=settings.chunking.overlap_always,
        )
        contexts = [chunk_context(title, piece) for piece in pieces]
        passages = PreparedFile(title, len(pages), pieces, contexts, {}).passages()
        stages["chunk"] += time.process_time() - started

        started = time.process_time()
        embedder.embed(passages)
        stages["embed"] += time.process_time() - started
        chunks += len(passages)
        tokens += sum(len(embedder.tokenizer(text)["input_ids"]) for text in passages)
    stages = {name: round(seconds, 1) for name, seconds in stages.items()}
    print(json.dumps({"stages": stages, "chunks": chunks, "tokens": tokens}))


if __name__ == "__main__":
    main()
