"""A file on its way through the pipeline: parsed and anonymized (LoadedFile), chunked
(PreparedFile), waiting for its vectors (ReadFile), then written as chunk rows."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ingest.chunk import TextChunk
from ingest.file_workers import PreparedText
from ingest.reembed import passage_text
from ingest.scan import FileEntry
from rag.db.models import Chunk, IndexLog


@dataclass
class LoadedFile:
    """A file parsed and anonymized by a file worker (in a read-ahead thread), not chunked."""

    sha256: str  # of exactly the bytes indexed
    text: PreparedText
    reread: bool  # it changed while being read, and was read again

    def chars(self) -> float:
        """Its size in text: what the read-ahead bounds (ingest/read_ahead.py)."""
        return sum(len(page.text) for page in self.text.pages)


@dataclass
class PreparedFile:
    title: str
    pages: int
    chunks: list[TextChunk]
    contexts: list[str]  # each chunk's header (ingest/chunk.py: chunk_context)
    pii_counts: Counter
    vectors: object = None  # set once embedded

    def passages(self) -> list[str]:
        return [
            passage_text(context, chunk.text)
            for chunk, context in zip(self.chunks, self.contexts, strict=True)
        ]


@dataclass
class ReadFile:
    """A file read and prepared, waiting for its vectors."""

    entry: FileEntry
    shown: str
    sha256: str
    prepared: PreparedFile


def add_chunks(session: Session, document_id: int, prepared: PreparedFile) -> None:
    rows = [
        Chunk(
            document_id=document_id,
            ordinal=chunk.ordinal,
            page_start=chunk.page_start,
            page_end=chunk.page_end,
            text=chunk.text,
            context=context,
            token_count=chunk.token_count,
            embedding=vector.tobytes(),
        )
        for chunk, context, vector in zip(
            prepared.chunks, prepared.contexts, prepared.vectors, strict=True
        )
    ]
    session.add_all(rows)
    session.flush()
    session.add_all(IndexLog(op="add", chunk_id=row.id) for row in rows)
