"""Database errors never quote the values bound to their statement (chunk text, paths)."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from rag.db.models import Chunk
from rag.db.session import make_engine, make_session_factory, transaction

PASSAGE = "Payroll questions go to Priya Raman, priya.raman@example.com"


def test_a_database_error_does_not_quote_the_values_it_was_given(database_url):
    engine = make_engine(database_url)
    try:
        # No such document: a foreign key error.
        with (
            pytest.raises(IntegrityError) as caught,
            transaction(make_session_factory(engine)) as session,
        ):
            session.add(
                Chunk(document_id=987654, ordinal=0, page_start=1, page_end=1,
                      text=PASSAGE, token_count=9, embedding=b"\0" * 8)
            )  # fmt: skip
    finally:
        engine.dispose()
    message = str(caught.value)
    assert "Priya" not in message and "example.com" not in message, message
