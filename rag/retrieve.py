"""Retrieval: a dense leg (FAISS) and a full-text leg (SQL, rag/db/fulltext/), near-duplicates
counted once, fused (rag/fusion.py), the caller's access applied inside both searches before
the top-k. The modes, the fusion and the relevance rule: docs/architecture.md ("Asking").

`Hit.score` is the chunk's cosine similarity to the question in dense and hybrid mode (also for
chunks only the full-text leg found, from their stored embedding), so citation scores keep one
meaning; hits are ordered by the fused rank, not by it. In fulltext mode the question is not
embedded and `score` is the full-text rank score.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from rag.access import Caller, document_visible, visible_chunk_ids
from rag.config import RetrievalSettings
from rag.db.fulltext import (
    containing_all_terms,
    fulltext_scores,
    fulltext_search,
    naming_every_pseudonym,
)
from rag.db.models import Chunk, Document
from rag.embed import Embedder
from rag.fusion import convex, first_per_key, normalized_text_key, rrf
from rag.index import VectorIndex
from rag.stored_values import TypedQuestion, share_said

log = logging.getLogger(__name__)


# Group sets whose visible chunk ids are kept (each at most 8 bytes per chunk).
VISIBLE_CACHE_ENTRIES = 16


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
        dense_enabled: bool = True,
    ) -> None:
        self.session_factory = session_factory
        self.index = index
        self.embedder = embedder
        self.settings = settings
        # False while the stored vectors are another embedding model's (a re-embed is due or
        # running): questions are then never compared with them.
        self.dense_enabled = dense_enabled

    def search(
        self,
        question: str,
        top_k: int | None = None,
        caller: Caller | None = None,
        typed: TypedQuestion | None = None,
    ) -> list[Hit]:
        """The best chunks for the question that are relevant enough to answer from, among
        those `caller` may see (None: everything). `typed`: an anonymized question's hidden
        words as typed (rag/stored_values.py), for the dense leg's text and the unheld words'
        leg; never sent to SQL."""
        return self._retrieve(
            question,
            top_k or self.settings.top_k,
            None,
            relevant_only=True,
            caller=caller,
            typed=typed,
        )

    def rank(
        self,
        question: str,
        top_k: int,
        mode: str | None = None,
        caller: Caller | None = None,
        typed: TypedQuestion | None = None,
    ) -> list[Hit]:
        """The best chunks in fused order, relevant or not (for measuring ranking quality)."""
        return self._retrieve(
            question, top_k, mode, relevant_only=False, caller=caller, typed=typed
        )

    def _visible_chunks(self, session: Session, caller: Caller | None) -> np.ndarray | None:
        """The caller's chunk ids, reused while neither the index log nor the documents table
        has changed: reading them is the costly part when a key may see most of a big corpus.
        A stale entry can only narrow results (the hits are checked against SQL again below),
        never widen them."""
        if caller is None or caller.is_admin:
            return None
        count, updated = session.execute(
            select(func.count(Document.id), func.max(Document.updated_at))
        ).one()
        key = (caller.groups, self.index.last_seq, count, updated)
        cache = self.index.visible_cache
        allowed = cache.get(key)
        if allowed is None:
            allowed = visible_chunk_ids(session, caller)
            if len(cache) >= VISIBLE_CACHE_ENTRIES:
                cache.clear()
            cache[key] = allowed
        return allowed

    def _retrieve(
        self,
        question: str,
        top_k: int,
        mode: str | None,
        relevant_only: bool,
        caller: Caller | None = None,
        typed: TypedQuestion | None = None,
    ) -> list[Hit]:
        mode = mode or self.settings.mode
        if not self.dense_enabled and mode != "fulltext":
            _warn_dense_disabled()
            mode = "fulltext"
        depth = max(self.settings.candidates, top_k)
        dense_text = question if typed is None else typed.embedded
        vector = self.embedder.embed_query([dense_text])[0] if mode != "fulltext" else None
        # Relevant enough to answer from: its cosine to either text. The typed words rank the
        # passages; but a passage that hid a name meets the question by its token, which a
        # question with two names (each in another passage) dilutes below min_score.
        token_vector = None
        if relevant_only and vector is not None and dense_text != question:
            token_vector = self.embedder.embed_query([question])[0]
        with self.session_factory() as session:
            dense: list[tuple[int, float]] = []
            if vector is not None:
                # Every query first applies what the writers committed since the last one.
                self.index.catch_up(session)
                # Access is applied inside both searches, before their top-k (see rag/access.py).
                allowed = self._visible_chunks(session, caller)
                dense = self.index.search(vector, depth, allowed_ids=allowed)
            full = (
                fulltext_search(session, question, depth, document_visible(caller))
                if mode != "dense"
                else []
            )
            ids = {cid for cid, _ in dense} | {cid for cid, _ in full}
            if not ids:
                return []
            rows = {
                chunk.id: (chunk, document)
                for chunk, document in session.execute(
                    select(Chunk, Document)
                    .join(Document, Chunk.document_id == Document.id)
                    .where(
                        Chunk.id.in_(ids),
                        Document.status == "indexed",
                        # Again here: a document may have changed groups since the search.
                        document_visible(caller),
                    )
                )
            }
            # One chunk per normalized text in each leg, the leg's best-ranked one.
            key = {cid: normalized_text_key(chunk.text) for cid, (chunk, _) in rows.items()}
            dense = first_per_key([p for p in dense if p[0] in rows], lambda p: key[p[0]])
            full = first_per_key([p for p in full if p[0] in rows], lambda p: key[p[0]])
            said = self._typed_words_legs(typed, rows, key, dense + full)
            if self.settings.fusion == "convex":
                legs = self._convex_legs(session, question, vector, rows, key, dense, full, mode)
                fused = convex(legs + said)
            else:
                fused = rrf(
                    [
                        ([key[cid] for cid, _ in dense], self.settings.dense_weight),
                        ([key[cid] for cid, _ in full], self.settings.fulltext_weight),
                        *((_saying_any(shares), weight) for shares, weight in said),
                    ],
                    self.settings.rrf_k,
                )
            # A fused text is shown as the chunk the dense leg ranked best, else the full-text's.
            chosen: dict[str, int] = {}
            for cid, _ in full[::-1] + dense[::-1]:
                chosen[key[cid]] = cid
            # Used whatever its cosine: a chunk with every content word and pseudonym of the
            # question, or with every pseudonym it names. The embedding reads a pseudonym as a
            # run of hex word pieces and scores the passage naming the person asked about near
            # min_score (0.28 to 0.39 for "What does <PERSON_…> handle?", by backend and token
            # length): the exact token is the evidence (bench/RESULTS.md, issue 19).
            strong_ids = set()
            if relevant_only:
                candidates = [cid for cid, _ in full]
                strong_ids = containing_all_terms(
                    session, question, candidates
                ) | naming_every_pseudonym(session, question, candidates)
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
            if token_vector is not None:
                stored = np.frombuffer(chunk.embedding, dtype="<f4")
                score = max(score, float(stored @ token_vector))
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

    def _typed_words_legs(self, typed, rows, key, candidates) -> list[tuple[dict, float]]:
        """[(normalized text -> the share of the question's unheld (or held) words it says,
        weight)]: a leg for each kind the question has and some candidate says; else []."""
        if typed is None:
            return []
        legs = []
        for words, weight in (
            (typed.unheld, self.settings.unheld_words_weight),
            (typed.held, self.settings.held_words_weight),
        ):
            if not words or weight <= 0:
                continue
            shares: dict[str, float] = {}
            for cid, _ in candidates:
                share = share_said(rows[cid][0].text, words)
                shares[key[cid]] = max(share, shares.get(key[cid], 0.0))
            if any(shares.values()):
                legs.append((shares, weight))
        return legs

    def _convex_legs(self, session, question, vector, rows, key, dense, full, mode):
        """Both legs' scores for every candidate either proposed, per normalized text (a
        text's score in a leg: its best chunk's), with their weights, for convex fusion."""
        candidates = [cid for cid, _ in dense] + [cid for cid, _ in full]
        dense_scores: dict[str, float] = {}
        full_scores: dict[str, float] = {}
        if mode != "fulltext":
            cosine = dict(dense)
            for cid in candidates:
                if cid not in cosine:  # proposed by the full-text leg only
                    cosine[cid] = float(np.frombuffer(rows[cid][0].embedding, dtype="<f4") @ vector)
                dense_scores[key[cid]] = max(cosine[cid], dense_scores.get(key[cid], -np.inf))
        if mode != "dense":
            rank = dict(full)
            missing = [cid for cid in candidates if cid not in rank]
            rank.update(fulltext_scores(session, question, missing))
            for cid in candidates:
                full_scores[key[cid]] = max(rank[cid], full_scores.get(key[cid], -np.inf))
        return [
            (dense_scores, self.settings.dense_weight),
            (full_scores, self.settings.fulltext_weight),
        ]


def _saying_any(shares: dict[str, float]) -> list[str]:
    """The texts that say some of the words, the largest share first (a leg for RRF)."""
    return sorted((text for text, share in shares.items() if share), key=shares.get, reverse=True)


_dense_warning_given = False


def _warn_dense_disabled() -> None:
    global _dense_warning_given
    if not _dense_warning_given:  # once per process, not once per question
        _dense_warning_given = True
        log.warning(
            "dense retrieval is off: the stored vectors were made by another embedding "
            "configuration; answering from full-text search until the re-embed finishes"
        )
