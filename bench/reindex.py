"""Re-indexing costs, measured (issue 4):

1. re-scan of an unchanged folder of 10,000 small files (walk, stat, compare with SQL);
2. deleting a 1,000-page document (2,500 chunks) from a populated index (50,000 chunks): the SQL
   transaction plus the FAISS catch-up that makes the deletion visible to queries;
3. one changed file in a 1,000-file folder: how many passages are embedded (counted).

The "already indexed" state of 1 and 3 is written straight into SQL (document rows whose size,
mtime and hash match the files), and the chunks of 2 carry random vectors: what is measured is
the scan, the delete and the one real re-index, not an hour of embedding to set the stage.

    python bench/reindex.py [--files 10000] [--out bench/results/reindex-DATE.json]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
from results_io import load_average, write_results
from sqlalchemy import func, insert, select

from ingest.scan import sha256_of
from rag.config import Settings
from rag.db.migrate import upgrade
from rag.db.models import Chunk, Document, IndexLog, Source
from rag.db.session import transaction
from rag.service import RagService


class CountingEmbedder:
    def __init__(self, embedder) -> None:
        self._embedder, self.passages = embedder, 0

    def __getattr__(self, name):
        return getattr(self._embedder, name)

    def embed(self, texts):
        self.passages += len(texts)
        return self._embedder.embed(texts)


def make_folder(root: Path, files: int) -> None:
    for n in range(files):
        folder = root / f"team-{n // 500:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"note-{n:05d}.txt").write_text(f"Note {n}\n\nMeeting room {n % 40} is booked.\n")


def register_as_indexed(service: RagService, root: Path) -> int:
    """Document rows matching every file, as a previous ingest leaves them."""
    with transaction(service.session_factory) as session:
        source = Source(name=root.name, path=str(root.resolve()), groups=[])
        session.add(source)
        session.flush()
        rows = []
        for path in sorted(root.rglob("*.txt")):
            stat = path.stat()
            rows.append(
                dict(
                    source_id=source.id, path=path.relative_to(root).as_posix(),
                    sha256=sha256_of(path), size_bytes=stat.st_size, mtime_ns=stat.st_mtime_ns,
                    format="txt", title=path.stem, pages=1, status="indexed", error=None,
                    groups=[], pii_counts={}, chunk_count=0,
                )
            )  # fmt: skip
        session.execute(insert(Document), rows)
        return source.id


def add_fake_document(service: RagService, source_id: int, name: str, chunks: int, dim: int):
    rng = np.random.default_rng(len(name))
    vectors = rng.standard_normal((chunks, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    with transaction(service.session_factory) as session:
        doc = Document(source_id=source_id, path=name, sha256="x", format="pdf", title=name,
                       pages=chunks // 2, status="indexed", chunk_count=chunks)  # fmt: skip
        session.add(doc)
        session.flush()
        rows = [
            dict(document_id=doc.id, ordinal=i, page_start=i // 2 + 1, page_end=i // 2 + 1,
                 text=f"passage {i}", token_count=180, embedding=vectors[i].tobytes())
            for i in range(chunks)
        ]  # fmt: skip
        session.execute(insert(Chunk), rows)
        ids = session.scalars(select(Chunk.id).where(Chunk.document_id == doc.id)).all()
        session.execute(insert(IndexLog), [dict(op="add", chunk_id=i) for i in ids])
        return doc.id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument(
        "--out", type=Path, default=Path(f"bench/results/reindex-{date.today()}.json")
    )
    args = parser.parse_args()
    results: dict = {"load_before": load_average()}

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        settings = Settings(data_dir=tmp / "data")
        settings.data_dir.mkdir()
        upgrade(settings.resolved_database_url)
        service = RagService(settings)
        pipeline = service.pipeline

        # 1. unchanged folder
        big = tmp / "notes"
        make_folder(big, args.files)
        big_id = register_as_indexed(service, big)
        started = time.perf_counter()
        report = pipeline.ingest_source(big_id)
        results["rescan_unchanged"] = {
            "files": args.files, "seconds": round(time.perf_counter() - started, 2),
            "unchanged": report.unchanged, "processed": report.indexed,
        }  # fmt: skip
        print("re-scan of unchanged folder:", results["rescan_unchanged"])

        # 2. delete a 1,000-page document from a populated index
        dim = service.embedder.dimension
        for n in range(20):
            add_fake_document(service, big_id, f"other-{n}.pdf", 2_500, dim)
        target = add_fake_document(service, big_id, "big-manual.pdf", 2_500, dim)
        index = service.index  # loads: rebuild from SQL
        before = index.size
        started = time.perf_counter()
        pipeline.remove_document(target)
        sql_s = time.perf_counter() - started
        with service.session_factory() as session:
            index.catch_up(session)
        total_s = time.perf_counter() - started
        results["delete_1000_page_document"] = {
            "chunks_in_index_before": before, "chunks_removed": before - index.size,
            "sql_seconds": round(sql_s, 3), "sql_and_index_seconds": round(total_s, 3),
        }  # fmt: skip
        print("delete a 1,000-page document:", results["delete_1000_page_document"])

        # 3. one changed file in a 1,000-file folder
        small = tmp / "handbook"
        make_folder(small, 1_000)
        small_id = register_as_indexed(service, small)
        changed = small / "team-00" / "note-00007.txt"
        changed.write_text("Note 7\n\n" + "The meeting rooms on floor two were renamed. " * 60)
        counting = CountingEmbedder(service.embedder)
        pipeline.embedder = counting
        started = time.perf_counter()
        report = pipeline.ingest_source(small_id)
        with service.session_factory() as session:
            doc_chunks = session.scalar(
                select(func.count()).select_from(Chunk).join(Document)
                .where(Document.source_id == small_id)
            )  # fmt: skip
        results["one_changed_file_of_1000"] = {
            "files_processed": report.indexed, "unchanged": report.unchanged,
            "passages_embedded": counting.passages, "chunks_of_changed_file": doc_chunks,
            "seconds": round(time.perf_counter() - started, 2),
        }  # fmt: skip
        print("one changed file of 1,000:", results["one_changed_file_of_1000"])
        service.close()

    results["load_after"] = load_average()
    write_results(args.out, results)
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
