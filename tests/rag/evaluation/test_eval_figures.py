"""`rag eval figures`: a tiny set of PDFs and figure questions through the real pipeline
(loader, anonymizer, chunker, embedder, hybrid search), and its errors."""

from __future__ import annotations

import json

from fpdf import FPDF
from typer.testing import CliRunner

from rag.cli import app
from rag.config import Settings
from rag.evaluation.figure_match import shows_figure
from rag.evaluation.figures import run_figures_eval


def _pdf(path, heading: str, rows: list[tuple[str, str]]) -> None:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    pdf.multi_cell(0, 5, heading)
    for label, figure in rows:
        pdf.cell(100, 5, label)
        pdf.cell(40, 5, figure, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))


def _dataset(root):
    docs = root / "docs"
    docs.mkdir(parents=True)
    _pdf(
        docs / "fabrikam.pdf",
        "Fabrikam quarterly report. Revenue of the quarter by product line, in millions.",
        [("Turbines revenue", "$ 4,812"), ("Blades revenue", "1,377")],
    )
    _pdf(
        docs / "contoso.pdf",
        "Contoso canteen menu. Prices of the dishes served at lunch, in dollars.",
        [("Vegetable soup", "$ 6.50"), ("Grilled fish", "$ 14.25")],
    )
    questions = [
        ("f1", "What was Fabrikam's turbines revenue?", "4,812", "fabrikam.pdf"),
        (
            "f2",
            "How much does the grilled fish cost at the Contoso canteen?",
            "14.25",
            "contoso.pdf",
        ),
        # Printed, but in the other document: only the question's own document counts.
        ("f3", "How much does the vegetable soup cost at Fabrikam?", "6.50", "fabrikam.pdf"),
    ]
    dataset = root / "figures.json"
    dataset.write_text(
        json.dumps(
            {
                "documents": "docs",
                "questions": [
                    {"id": i, "question": q, "figure": f, "unit": "USD", "document": d, "page": 1}
                    for i, q, f, d in questions
                ],
            }
        )
    )
    return dataset


def test_figures_through_the_real_pipeline(tmp_path, embedder, anonymizer):
    dataset = _dataset(tmp_path / "tiny")
    settings = Settings(data_dir=tmp_path / "unused")
    payload = run_figures_eval(dataset, settings, embedder=embedder, anonymizer=anonymizer)
    assert payload["indexed_documents"] == 2 and payload["pages"] == 2
    rows = {row["id"]: row for row in payload["per_question"]}
    assert rows["f1"]["found"] and rows["f1"]["rank"] >= 1 and rows["f1"]["stored"]
    assert rows["f2"]["found"] and rows["f2"]["stored"]
    assert not rows["f3"]["found"] and not rows["f3"]["stored"]
    assert payload["failed"] == ["f3"]
    assert payload["summary"]["figure in a top passage"] == 2 / 3
    assert payload["personal_data_removal"] is True
    assert not (tmp_path / "unused").exists()  # the store lived in a temporary folder


def test_cli_names_a_missing_document(tmp_path):
    dataset = _dataset(tmp_path / "tiny")
    (tmp_path / "tiny" / "docs" / "contoso.pdf").unlink()
    result = CliRunner().invoke(app, ["eval", "figures", "--dataset", str(dataset)])
    assert result.exit_code == 2 and "contoso.pdf" in result.output


class _AnsweringGenerator:
    """Answers every question with the same words (the counting is what is tested)."""

    name = "fixed"
    context_tokens = 2048

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def stream(self, messages, max_tokens: int, stop=None):
        return iter(["Turbines revenue was $ 4,812 [1]."])


def test_answers_are_asked_and_counted(tmp_path, embedder, anonymizer):
    dataset = _dataset(tmp_path / "tiny")
    settings = Settings(data_dir=tmp_path / "unused")
    payload = run_figures_eval(
        dataset,
        settings,
        answers=True,
        embedder=embedder,
        anonymizer=anonymizer,
        generator=_AnsweringGenerator(),
    )
    rows = {row["id"]: row for row in payload["per_question"]}
    assert rows["f1"]["answer"].startswith("Turbines revenue") and rows["f1"]["answer_shows"]
    assert not rows["f2"]["answer_shows"] and not rows["f3"]["answer_shows"]
    for row in rows.values():
        top = row["quotes"][0] if row["quotes"] else ""
        assert row["quote_shows"] == (bool(top) and shows_figure(top, row["figure"], False))
        assert row["either_shows"] == (row["answer_shows"] or row["quote_shows"])
    summary = payload["summary"]
    assert summary["answer shows the figure"] == 1 / 3
    assert (
        summary["answer or top quote shows the figure"]
        == sum(r["either_shows"] for r in rows.values()) / 3
    )
    assert summary["llm"].startswith(settings.llm.backend)
