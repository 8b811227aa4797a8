"""Stored answers against today's access: a conversation shows (and hands to the LLM as
context) only answers whose every cited document the reader may still see.

An answer quotes and summarizes its sources, so when one of them is deleted or moved to groups
the reader is not in, the whole answer is withheld, not only the citation. When a document is
deleted its citations are purged from every stored answer: a stub with the number and the
document id stays (so the answer stays withheld), the title, path and snippet go.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from sqlalchemy import String, cast, or_, select
from sqlalchemy.orm import Session

from rag.access import Caller, document_visible
from rag.db.models import Document, Message

# Up to this many deleted documents, SQL picks the answers that cite them; beyond, all are read.
MATCH_IN_SQL = 50
WITHHELD = (
    "This answer is hidden: a document it cited has been removed or is no longer shared with you."
)


class _HasCitations(Protocol):
    citations: Any


def withheld(session: Session, caller: Caller, messages: Sequence[_HasCitations]) -> set[int]:
    """Indexes into `messages` of those citing a document `caller` may no longer see."""
    cited = {
        c.get("document_id") for m in messages for c in (m.citations or []) if isinstance(c, dict)
    }
    cited.discard(None)
    visible: set[int] = set()
    if cited:
        visible = set(
            session.scalars(
                select(Document.id).where(
                    Document.id.in_(cited), Document.status != "deleted", document_visible(caller)
                )
            )
        )
    return {
        i
        for i, m in enumerate(messages)
        if any(
            c.get("removed") or c.get("document_id") not in visible
            for c in (m.citations or [])
            if isinstance(c, dict)
        )
    }


def purge_citations(session: Session, document_ids: Iterable[int]) -> int:
    """Strip the title, path and snippet of these documents from every stored answer; returns
    how many answers changed. Runs in the caller's transaction."""
    ids = set(document_ids)
    if not ids:
        return 0
    query = select(Message).where(Message.role == "assistant")
    if len(ids) <= MATCH_IN_SQL:
        # A text match finds the candidates in SQL; the JSON is then checked exactly.
        text = cast(Message.citations, String)
        query = query.where(
            or_(*(text.like(f'%"document_id": {i}{end}%') for i in ids for end in (",", "}")))
        )
    changed = 0
    for message in session.scalars(query):
        citations = [
            {"n": c.get("n"), "document_id": c["document_id"], "removed": True}
            if isinstance(c, dict) and c.get("document_id") in ids
            else c
            for c in message.citations or []
        ]
        if citations != message.citations:
            message.citations = citations
            changed += 1
    return changed
