"""The 30 figure questions (tests/data/sec10q_questions.json) match the filings they quote."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.evaluation.figure_match import shows_figure
from rag.evaluation.figures import load_figure_questions

DATASET = Path(__file__).resolve().parents[2] / "data" / "sec10q_questions.json"


def test_thirty_questions_over_the_five_filings():
    _, questions = load_figure_questions(DATASET)
    assert len(questions) == 30
    assert len({q.id for q in questions}) == 30
    companies = {q.document for q in questions}
    assert len(companies) == 5
    assert all(sum(q.document == c for q in questions) >= 5 for c in companies)


def test_each_figure_is_printed_on_its_page():
    """The answers are the filings' own: each figure is on the page the dataset names (only
    those pages are read: the whole filings take a minute)."""
    from pypdf import PdfReader

    folder, questions = load_figure_questions(DATASET)
    if not folder.is_dir():
        pytest.skip(f"{folder} (shared/eval/sec-10q-2022q3) is not present in this checkout")
    readers = {}
    for question in questions:
        reader = readers.setdefault(question.document, PdfReader(folder / question.document))
        text = reader.pages[question.page - 1].extract_text()
        assert shows_figure(text, question.figure, question.in_millions), question.id
