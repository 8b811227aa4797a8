"""Hybrid retrieval on a real database (SQLite and PostgreSQL) with the real models."""

from __future__ import annotations

import pytest

import rag.retrieve
from rag.retrieve import Retriever

DOCS = {
    "leave.txt": "Leave policy\n\nEmployees get 28 days of paid annual leave per year. "
    "Unused days may be carried over until March.",
    "freezer.txt": "Facilities notes\n\nThe basement has a walk-in freezer for events. "
    "Its reset code is FRZ-4471. The canteen opens at 8am.",
    "travel.txt": "Travel policy\n\nMeals on business trips are reimbursed up to the daily per "
    "diem. Book trains in second class.",
    # The same boilerplate, but for case and spacing.
    "footer-a.txt": "Confidential. Internal use only. Do not forward.",
    "footer-b.txt": "CONFIDENTIAL.   Internal  use only.\nDo not forward.",
}


@pytest.fixture
def service(make_service, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    for name, text in DOCS.items():
        (folder / name).write_text(text)
    service = make_service()
    report = service.pipeline.ingest_folder(folder)
    assert report.indexed == len(DOCS)
    return service


def _retriever(service, **settings) -> Retriever:
    retrieval = service.settings.retrieval.model_copy(update=settings)
    return Retriever(service.session_factory, service.index, service.embedder, retrieval)


def test_fulltext_finds_an_exact_rare_term_the_dense_leg_misses(service):
    question = "FRZ-4471"
    dense = _retriever(service, mode="dense")
    # The embedding does not tie the code to its passage strongly enough to answer from.
    assert all(hit.path != "freezer.txt" for hit in dense.search(question))
    hybrid = _retriever(service, mode="hybrid").search(question)
    assert hybrid and hybrid[0].path == "freezer.txt"
    # The citation score stays the cosine similarity, below the threshold here: the chunk was
    # let through as a full-text match of every word of the question.
    assert hybrid[0].score < service.settings.retrieval.min_score
    assert _retriever(service, mode="fulltext").search(question)[0].path == "freezer.txt"


def test_nothing_relevant_is_still_detected(service):
    assert _retriever(service, mode="hybrid").search("What is the boiling point of tungsten?") == []


def test_a_semantic_question_still_finds_its_passage(service):
    hits = _retriever(service, mode="hybrid").search("How much vacation do staff have?")
    assert hits and hits[0].path == "leave.txt"
    assert hits[0].score >= service.settings.retrieval.min_score


def test_mode_switch_runs_only_the_chosen_leg(service, monkeypatch):
    def no_fulltext(*args, **kwargs):
        raise AssertionError("the full-text leg ran in dense mode")

    with monkeypatch.context() as patch:
        patch.setattr(rag.retrieve, "fulltext_search", no_fulltext)
        assert _retriever(service, mode="dense").rank("annual leave days", 3)[0].path == "leave.txt"

    def no_embedding(*args, **kwargs):
        raise AssertionError("the dense leg ran in fulltext mode")

    monkeypatch.setattr(service.embedder, "embed_query", no_embedding)
    hits = _retriever(service, mode="fulltext").rank("annual leave days", 3)
    assert hits[0].path == "leave.txt"


def test_near_duplicate_chunks_fill_one_place(service):
    for mode in ("dense", "fulltext", "hybrid"):
        hits = _retriever(service, mode=mode).rank("confidential internal use only", 5)
        assert hits[0].path.startswith("footer")
        assert [hit.path.startswith("footer") for hit in hits].count(True) == 1, mode
