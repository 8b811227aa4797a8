"""Chunks carry their context: a header (document title, section heading, page) that is
embedded and full-text indexed with the chunk, stored apart so its text stays the passage
alone. On SQLite and PostgreSQL, with the real models."""

from __future__ import annotations

import numpy as np
from sqlalchemy import select

from ingest.chunk import TextChunk, chunk_context
from ingest.reembed import passage_text
from rag.db.fulltext import fulltext_search
from rag.db.models import Chunk

# The title names the company; the section's own text never does.
REPORT = """---
title: Zephyrine Holdings quarterly report
---

## Segment results

Services net sales were 21,213 in the three months ended June 25, 2022, up 8 percent.
"""


def test_the_header_names_title_section_and_pages():
    one = TextChunk(ordinal=0, text="t", page_start=3, page_end=3, token_count=1, heading="Risk")
    two = TextChunk(ordinal=1, text="t", page_start=3, page_end=4, token_count=1)
    assert chunk_context("Acme  Inc.", one) == "Acme Inc. · Risk · page 3"
    assert chunk_context("Acme Inc.", two) == "Acme Inc. · pages 3-4"
    # A heading that repeats the title is said once.
    same = TextChunk(ordinal=0, text="t", page_start=1, page_end=1, token_count=1, heading="acme")
    assert chunk_context("Acme", same) == "Acme · page 1"
    # The tokens of the words of the chunk's hidden names come last.
    parts = ["<PERSON_00000000000000aa>", "<PERSON_00000000000000bb>"]
    assert chunk_context("Acme", same, parts) == "Acme · page 1 · " + " ".join(parts)


def test_chunks_are_indexed_with_their_header_and_stored_clean(make_service, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "q3.md").write_text(REPORT)
    service = make_service()
    assert service.pipeline.ingest_folder(folder).indexed == 1

    with service.session_factory() as session:
        chunk = session.scalars(select(Chunk)).one()
        # A company word only the header holds finds the passage in full text.
        found = [i for i, _ in fulltext_search(session, "Zephyrine services net sales", 5)]
    assert chunk.text.startswith("## Segment results\n\nServices net sales were 21,213")
    assert "Zephyrine" not in chunk.text
    assert chunk.context == "Zephyrine Holdings quarterly report · Segment results · page 1"
    assert found == [chunk.id]
    # The vector is the header's and the text's together.
    stored = np.frombuffer(chunk.embedding, dtype=np.float32)
    with_header = service.embedder.embed([passage_text(chunk.context, chunk.text)])[0]
    text_alone = service.embedder.embed([chunk.text])[0]
    assert np.allclose(stored, with_header, atol=1e-5)
    assert not np.allclose(stored, text_alone, atol=1e-3)
