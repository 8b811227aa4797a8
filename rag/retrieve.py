"""Retrieval: the question's embedding against the FAISS index, joined back to SQL."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from rag.config import RetrievalSettings
from rag.db.models import Chunk, Document
from rag.embed import Embedder
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
        """The best chunks for the question that clear the relevance threshold."""
        top_k = top_k or self.settings.top_k
        vector = self.embedder.embed_query(question)
        with self.session_factory() as session:
            # Every query first applies what the writers committed since the last one.
            self.index.catch_up(session)
            nearest = self.index.search(vector, max(self.settings.candidates, top_k))
            relevant = {cid: s for cid, s in nearest if s >= self.settings.min_score}
            if not relevant:
                return []
            rows = session.execute(
                select(Chunk, Document)
                .join(Document, Chunk.document_id == Document.id)
                .where(Chunk.id.in_(relevant), Document.status == "indexed")
            ).all()
        hits = [
            Hit(
                chunk_id=chunk.id,
                score=relevant[chunk.id],
                text=chunk.text,
                page_start=chunk.page_start,
                page_end=chunk.page_end,
                document_id=document.id,
                title=document.title,
                path=document.path,
            )
            for chunk, document in rows
        ]
        hits.sort(key=lambda hit: hit.score, reverse=True)
        return hits[:top_k]
