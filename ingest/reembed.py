"""The `reembed` job: every chunk embedded again when the fingerprint of what made the stored
vectors (kept in `store_meta`) differs from the configured one; meanwhile retrieval runs
full-text only, so vectors of two models never meet (docs/architecture.md, "Asking").
`reembed_all` works in batches of one transaction each (new embeddings plus `add` entries in
index_log), records its progress after each batch so a killed run resumes, and records the new
fingerprint last. The query prefix is not in the fingerprint: it changes question vectors only.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from rag.config import EmbeddingSettings
from rag.db.models import Chunk, Document, IndexLog, StoreMeta
from rag.db.session import insert_unless_present, lock_index_log, transaction
from rag.embed import Embedder
from rag.embed.onnx_export import INT8_VECTORS
from rag.embed.pseudonym_words import STAND_IN_VERSION
from rag.model_paths import model_files_digest

log = logging.getLogger(__name__)

FINGERPRINT_KEY = "embedding_fingerprint"
# {"fingerprint": the target, "after_id": every chunk up to this id is done}
PROGRESS_KEY = "reembed_progress"
BATCH_CHUNKS = 256


def passage_text(header: str, chunk_text: str) -> str:
    """What a chunk is embedded from: its context header (title, section, page; the document's
    title alone for chunks stored before headers) travels with it, as the ingest pipeline does,
    so a chunk knows what it is part of."""
    return f"{header}\n{chunk_text}"


def embedding_fingerprint(settings: EmbeddingSettings, embedder: Embedder) -> str:
    """Everything that changes the stored vectors, as a stable JSON string. `settings` are the
    embedder's own, with `auto` resolved (rag/embed/backend_choice.py)."""
    if settings.backend == "auto":
        raise ValueError("embedding.backend auto must be resolved before it is fingerprinted")
    facts = {
        "model": settings.model,
        "model_name": embedder.model_name,
        "model_files": model_files_digest(embedder.path),
        "dimension": embedder.dimension,
        "max_seq_length": embedder.max_tokens,
        "passage_prefix": settings.passage_prefix,
        "normalize": settings.normalize,
    }
    if settings.backend != "torch":
        # Another runtime (and int8 weights) makes slightly different vectors. Absent for
        # torch, so stores made before backends existed keep their fingerprint.
        facts["backend"] = f"{settings.backend}-{settings.onnx_quantization}"
        if settings.onnx_quantization == "int8":
            # What is quantized changes the vectors (rag/embed/onnx_export.py).
            facts["int8_vectors"] = INT8_VECTORS
        if settings.backend == "openvino" and settings.onnx_quantization == "int8":
            # NNCF's recipe and the calibration text change them too (openvino_export.py).
            from rag.embed.openvino_export import quantization_key

            facts["openvino_int8"] = quantization_key()
    if settings.pseudonym_stand_ins:
        # Pseudonyms read as name-like words; absent when off, as before the stand-ins.
        facts["pseudonym_stand_ins"] = STAND_IN_VERSION
    return json.dumps(facts, sort_keys=True, separators=(",", ":"))


def _get(session: Session, key: str) -> str | None:
    row = session.get(StoreMeta, key)
    return row.value if row is not None else None


def _put(session: Session, key: str, value: str) -> None:
    row = session.get(StoreMeta, key)
    if row is None:
        session.add(StoreMeta(key=key, value=value))
    else:
        row.value = value
    session.flush()


def stored_fingerprint(session: Session) -> str | None:
    """The fingerprint of the model that made the stored vectors; None: never recorded."""
    return _get(session, FINGERPRINT_KEY)


def record_fingerprint(session: Session, fingerprint: str) -> None:
    """Record that the stored vectors are `fingerprint`'s (in the caller's transaction)."""
    _put(session, FINGERPRINT_KEY, fingerprint)


def vectors_match_config(session_factory: sessionmaker[Session], fingerprint: str) -> bool:
    """Whether the dense leg may search: the stored vectors were made as configured.

    A store without a recorded fingerprint adopts the configured one when it is empty or was
    filled before fingerprints existed with vectors of the configured size (the only model
    that could have made them then is the configured one, as far as the store can tell);
    vectors of another size are another model's, and need a re-embed.
    """
    with transaction(session_factory) as session:
        stored = stored_fingerprint(session)
        if stored is not None:
            matches = stored == fingerprint
            if not matches:
                log.warning(
                    "the stored vectors were made by another embedding configuration: "
                    "retrieval is full-text only until a re-embed finishes"
                )
            return matches
        sizes = set(session.scalars(select(func.length(Chunk.embedding)).distinct().limit(2)))
        configured = json.loads(fingerprint)["dimension"] * 4
        if sizes and sizes != {configured}:
            log.warning(
                "the stored vectors have another dimension than the configured model: "
                "retrieval is full-text only until a re-embed finishes"
            )
            return False
        if not insert_unless_present(session, StoreMeta(key=FINGERPRINT_KEY, value=fingerprint)):
            return stored_fingerprint(session) == fingerprint  # another worker recorded first
        return True


def check_vectors(session_factory: sessionmaker[Session], fingerprint: str) -> bool:
    """`vectors_match_config`; when the vectors are another model's, a re-embed job is queued
    (one at a time) so the store converges on the configured model."""
    if vectors_match_config(session_factory, fingerprint):
        return True
    from rag.jobs import enqueue

    with transaction(session_factory) as session:
        enqueue(session, "reembed")
    return False


@dataclass
class ReembedReport:
    done: int  # chunks re-embedded by this call
    total: int  # chunks this call had to do (those left after an earlier, stopped run)
    finished: bool  # False: stopped early; calling again resumes


def reembed_all(
    session_factory: sessionmaker[Session],
    embedder: Embedder,
    on_progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    batch_size: int = BATCH_CHUNKS,
) -> ReembedReport:
    """Re-embed every chunk with `embedder`, resumably; record its fingerprint at the end.

    Chunks are taken in id order; after each batch the highest id done is recorded with the
    target fingerprint, so a run that is killed or stopped resumes after it (a run for another
    fingerprint starts over). Chunks written meanwhile by the ingest pipeline get higher ids
    and are re-embedded too (harmless: it already used this model); chunks deleted meanwhile
    are skipped. `on_progress(done, total)` is called after each batch.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    fingerprint = embedding_fingerprint(embedder.settings, embedder)
    with session_factory() as session:
        after_id = _resume_point(session, fingerprint)
        total = session.scalar(select(func.count()).select_from(Chunk).where(Chunk.id > after_id))
    done = 0
    if on_progress:
        on_progress(done, total)
    while True:
        if should_stop and should_stop():
            log.info("re-embedding stopped after %d of %d chunks; it resumes later", done, total)
            return ReembedReport(done=done, total=total, finished=False)
        with session_factory() as session:
            batch = session.execute(
                select(Chunk.id, Chunk.text, Chunk.context, Document.title)
                .join(Document, Document.id == Chunk.document_id)
                .where(Chunk.id > after_id)
                .order_by(Chunk.id)
                .limit(batch_size)
            ).all()
        if not batch:
            break
        vectors = embedder.embed(
            [passage_text(context or title or "", text) for _, text, context, title in batch]
        )
        after_id = int(batch[-1].id)
        _write_batch(
            session_factory, [int(row.id) for row in batch], vectors, fingerprint, after_id
        )
        done += len(batch)
        total = max(total, done)  # chunks written meanwhile join the run
        if on_progress:
            on_progress(done, total)
    with transaction(session_factory) as session:
        record_fingerprint(session, fingerprint)
        progress = session.get(StoreMeta, PROGRESS_KEY)
        if progress is not None:
            session.delete(progress)
    log.info("re-embedded %d chunks with %s", done, embedder.model_name)
    return ReembedReport(done=done, total=total, finished=True)


def _resume_point(session: Session, fingerprint: str) -> int:
    raw = _get(session, PROGRESS_KEY)
    if raw is None:
        return 0
    progress = json.loads(raw)
    return int(progress["after_id"]) if progress.get("fingerprint") == fingerprint else 0


def _write_batch(
    session_factory: sessionmaker[Session],
    chunk_ids: list[int],
    vectors,
    fingerprint: str,
    after_id: int,
) -> None:
    """New vectors, their index_log entries and the progress mark, in one transaction."""
    with transaction(session_factory) as session:
        # Writers that delete chunks take the same lock first: what exists now stays.
        lock_index_log(session)
        existing = set(session.scalars(select(Chunk.id).where(Chunk.id.in_(chunk_ids))))
        rows = [
            {"id": chunk_id, "embedding": vector.tobytes()}
            for chunk_id, vector in zip(chunk_ids, vectors, strict=True)
            if chunk_id in existing
        ]
        if rows:
            session.execute(update(Chunk), rows)
            session.add_all(IndexLog(op="add", chunk_id=row["id"]) for row in rows)
        _put(session, PROGRESS_KEY, json.dumps({"fingerprint": fingerprint, "after_id": after_id}))
