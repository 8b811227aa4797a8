"""Deleting chunks: always together with their `remove` entries in index_log, in the caller's
transaction, so every FAISS copy learns of the deletion by replaying the log."""

from __future__ import annotations

from sqlalchemy import ColumnElement, DateTime, delete, insert, literal, select
from sqlalchemy.orm import Session

from rag.db.models import Chunk, IndexLog, utcnow
from rag.db.session import lock_index_log


def delete_chunks(session: Session, *where: ColumnElement[bool]) -> int:
    """Delete the chunks matching `where` and log their removal. Returns how many went.

    One INSERT ... SELECT and one DELETE, however many chunks: a 1,000-page manual goes in one
    round trip each, not thousands.
    """
    lock_index_log(session)
    session.execute(
        insert(IndexLog).from_select(
            ["op", "chunk_id", "created_at"],
            select(literal("remove"), Chunk.id, literal(utcnow(), DateTime(timezone=True)))
            .where(*where)
            .order_by(Chunk.id),
        )
    )
    # DELETE reports its row count on every driver; INSERT ... SELECT does not on psycopg.
    return session.execute(delete(Chunk).where(*where)).rowcount
