"""Retrieval: a dense leg (FAISS) and a full-text leg (SQL), fused by reciprocal rank fusion.

* Dense: the question's embedding against the FAISS index (cosine similarity).
* Full-text: BM25 on SQLite (FTS5), ts_rank_cd on PostgreSQL (rag/db/fulltext.py). It finds
  exact rare words the embedding blurs: codes, product names, pseudonyms.
* Fusion (rag/fusion.py): each leg proposes `candidates` chunks; RRF with `rrf_k` and the
  legs' weights orders them. `mode` runs one leg alone (dense, fulltext) or both (hybrid).
* Near-duplicates: chunks with the same normalized text (boilerplate on every page) count as
  one, the best-ranked, before fusion, so they neither fill the top-k nor add up across legs.
* Relevance ("nothing relevant" must stay detectable): a chunk may be used to answer when its
  cosine similarity reaches `min_score`, or when it contains every content word and pseudonym
  of the question (a strong full-text match). Fused and BM25 scores are relative to one query
  and cannot be thresholded; "every word of the question is in this passage" is absolute, and
  strict enough that a question about something absent from the documents finds nothing.
* `Hit.score` is the chunk's cosine similarity to the question in dense and hybrid mode (also
  for chunks only the full-text leg found; computed from their stored embedding), so citation
  scores keep one meaning. Hits are ordered by the fused rank, not by this score. In fulltext
  mode the question is not embedded and `score` is the full-text rank score.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from rag.config import RetrievalSettings
from rag.db.fulltext import containing_all_terms, fulltext_search
from rag.db.models import Chunk, Document
from rag.embed import Embedder
from rag.fusion import first_per_key, normalized_text_key, rrf
from rag.index import VectorIndex


@dataclass(frozen=True)
class Hit:
    chunk_id: int
    score: float
    text: str
    page_start: int
    page_end: int
    document_id: int
    title: str
    path: str


class Retriever:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        index: VectorIndex,
        embedder: Embedder,
        settings: RetrievalSettings,
    ) -> None:
        self.session_factory = session_factory
        self.index = index
        self.embedder = embedder
        self.settings = settings

    def search(self, question: str, top_k: int | None = None) -> list[Hit]:
        """The best chunks for the question that are relevant enough to answer from."""
        return self._retrieve(question, top_k or self.settings.top_k, None, relevant_only=True)

    def rank(self, question: str, top_k: int, mode: str | None = None) -> list[Hit]:
        """The best chunks in fused order, relevant or not (for measuring ranking quality)."""
        return self._retrieve(question, top_k, mode, relevant_only=False)

    def _retrieve(
        self, question: str, top_k: int, mode: str | None, relevant_only: bool
    ) -> list[Hit]:
        mode = mode or self.settings.mode
        depth = max(self.settings.candidates, top_k)
        vector = self.embedder.embed_query(question) if mode != "fulltext" else None
        with self.session_factory() as session:
            dense: list[tuple[int, float]] = []
            if vector is not None:
                # Every query first applies what the writers committed since the last one.
                self.index.catch_up(session)
                dense = self.index.search(vector, depth)
            full = fulltext_search(session, question, depth) if mode != "dense" else []
            ids = {cid for cid, _ in dense} | {cid for cid, _ in full}
            if not ids:
                return []
            rows = {
                chunk.id: (chunk, document)
                for chunk, document in session.execute(
                    select(Chunk, Document)
                    .join(Document, Chunk.document_id == Document.id)
                    .where(Chunk.id.in_(ids), Document.status == "indexed")
                )
            }
            # One chunk per normalized text in each leg, the leg's best-ranked one.
            key = {cid: normalized_text_key(chunk.text) for cid, (chunk, _) in rows.items()}
            dense = first_per_key([p for p in dense if p[0] in rows], lambda p: key[p[0]])
            full = first_per_key([p for p in full if p[0] in rows], lambda p: key[p[0]])
            fused = rrf(
                [
                    ([key[cid] for cid, _ in dense], self.settings.dense_weight),
                    ([key[cid] for cid, _ in full], self.settings.fulltext_weight),
                ],
                self.settings.rrf_k,
            )
            # A fused text is shown as the chunk the dense leg ranked best, else the full-text's.
            chosen: dict[str, int] = {}
            for cid, _ in full[::-1] + dense[::-1]:
                chosen[key[cid]] = cid
            strong_ids = (
                containing_all_terms(session, question, [cid for cid, _ in full])
                if relevant_only
                else set()
            )
            strong = {key[cid] for cid in strong_ids}

        cosine = dict(dense)
        full_score = dict(full)
        hits = []
        for text_key, _ in fused:
            cid = chosen[text_key]
            chunk, document = rows[cid]
            if vector is None:
                score = full_score[cid]
            elif cid in cosine:
                score = cosine[cid]
            else:
                score = float(np.frombuffer(chunk.embedding, dtype="<f4") @ vector)
            if (
                relevant_only
                and text_key not in strong
                and (vector is None or score < self.settings.min_score)
            ):
                continue
            hits.append(
                Hit(
                    chunk_id=cid,
                    score=score,
                    text=chunk.text,
                    page_start=chunk.page_start,
                    page_end=chunk.page_end,
                    document_id=document.id,
                    title=document.title,
                    path=document.path,
                )
            )
            if len(hits) == top_k:
                break
        return hits
