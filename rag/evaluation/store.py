"""A fresh store built from a BEIR corpus (or from real files), for the `rag eval` commands.

The store lives in a temporary data dir (SQLite, migrations applied) and is filled through the
normal ingest pipeline: each corpus document becomes a text file "title, blank line, text" (so
the loader takes the title from its first line and the title stays with the text for both
legs), chunked and embedded exactly as in production. Personal-data removal is off unless asked
for (BEIR datasets are public).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from rag.config import Settings


@dataclass
class EvalStore:
    service: Any  # rag.service.RagService, imported late (it loads heavy modules)
    settings: Settings
    names: dict[str, str]  # file name in the store -> corpus id (empty: a folder as it is)
    indexed: int
    chunks: int
    pages: int = 0
    ingest_seconds: float = 0.0

    def document_of(self, path: str) -> str:
        """The corpus id of a cited document (its path in the folder, for a folder)."""
        return self.names.get(Path(path).name, path) if self.names else path


def load_corpus(directory: Path) -> dict[str, tuple[str, str]]:
    """{id: (title, text)} from a BEIR corpus.jsonl, in file order."""
    path = directory / "corpus.jsonl"
    if not path.is_file():
        raise ValueError(f"no corpus.jsonl in {directory}")
    corpus = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                corpus[str(row["_id"])] = (row.get("title") or "", row.get("text") or "")
    return corpus


def write_corpus(corpus: dict[str, tuple[str, str]], folder: Path) -> dict[str, str]:
    """One text file per document; returns file name -> corpus id."""
    folder.mkdir(parents=True)
    names = {}
    for number, (doc_id, (title, body)) in enumerate(corpus.items()):
        name = f"d{number:07d}.txt"
        content = f"{title.strip()}\n\n{body.strip()}" if title.strip() else body.strip()
        (folder / name).write_text(content + "\n", encoding="utf-8")
        names[name] = doc_id
    return names


@contextmanager
def eval_store(
    corpus: dict[str, tuple[str, str]],
    settings: Settings,
    anonymize: bool = False,
    log: Console | None = None,
    **parts: Any,
) -> Iterator[EvalStore]:
    """Build the store, yield it, delete it. `parts` (embedder, anonymizer, generator) are
    passed to the service, so tests can share models already loaded."""
    with _fresh_store(
        lambda folder: write_corpus(corpus, folder), settings, anonymize, log, parts
    ) as store:
        yield store


def copy_files(files: list[Path], folder: Path) -> dict[str, str]:
    """The files under neutral names (their own may hold personal data, and the store shows
    the anonymized one); returns name in the store -> the file's own name."""
    folder.mkdir(parents=True)
    names = {}
    for number, path in enumerate(files):
        name = f"d{number:07d}{path.suffix.lower()}"
        shutil.copyfile(path, folder / name)
        names[name] = path.name
    return names


@contextmanager
def files_store(
    files: list[Path],
    settings: Settings,
    anonymize: bool = True,
    log: Console | None = None,
    **parts: Any,
) -> Iterator[EvalStore]:
    """A store of real documents (PDF, DOCX...), ingested as production would; `names` maps
    each stored file name to the file's own."""
    with _fresh_store(
        lambda folder: copy_files(files, folder), settings, anonymize, log, parts
    ) as store:
        yield store


@contextmanager
def eval_folder_store(
    folder: Path,
    settings: Settings,
    anonymize: bool = False,
    log: Console | None = None,
    **parts: Any,
) -> Iterator[EvalStore]:
    """A store of a folder of documents, ingested as it is (a copy, under the same paths)."""

    def copy_folder(destination: Path) -> dict[str, str]:
        shutil.copytree(folder, destination)
        return {}

    with _fresh_store(copy_folder, settings, anonymize, log, parts) as store:
        yield store


@contextmanager
def _fresh_store(
    fill: Callable[[Path], dict[str, str]],
    settings: Settings,
    anonymize: bool,
    log: Console | None,
    parts: dict[str, Any],
) -> Iterator[EvalStore]:
    from rag.db.migrate import upgrade
    from rag.service import RagService

    log = log or Console(stderr=True)
    with tempfile.TemporaryDirectory(prefix="rag-eval-") as tmp:
        data_dir = Path(tmp) / "data"
        store_settings = settings.model_copy(
            update={
                "data_dir": data_dir,
                "database_url": "",  # a fresh SQLite file in data_dir
                # Embedding and chunking stay as configured: the same vectors as production.
                "anonymize": settings.anonymize.model_copy(update={"enabled": anonymize}),
            }
        )
        data_dir.mkdir(parents=True)
        upgrade(store_settings.resolved_database_url)
        names = fill(Path(tmp) / "corpus")
        service = RagService(store_settings, **parts)
        started = time.perf_counter()
        report = service.pipeline.ingest_folder(Path(tmp) / "corpus")
        seconds = time.perf_counter() - started
        log.print(
            f"indexed {report.indexed} documents ({report.pages} pages, {report.chunks} chunks, "
            f"{len(report.failed) + len(report.skipped)} not indexed) in {seconds:.0f}s"
        )
        try:
            yield EvalStore(
                service, store_settings, names, report.indexed, report.chunks, report.pages, seconds
            )
        finally:
            service.close()
