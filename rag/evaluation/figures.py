"""`rag eval figures`: does a question about a figure in a business document retrieve it?

The dataset is a JSON file: `documents` (a folder, relative to the file) and `questions`, each
{id, question, figure (as printed), unit, document (a file name in the folder), page}
(tests/data/sec10q_questions.json: 30 questions on five 10-Q filings). The documents are
ingested into a fresh store as production would (default config: personal-data removal on;
rag/evaluation/store.py), then each question is searched as the service searches a user's
(`search_for`: the question anonymized, hybrid retrieval, relevant passages only). Per question:

* found: one of the top-k passages (5) of the question's own document shows the figure
  (rag/evaluation/figure_match.py: "$ 21,213", "21,213", "$21.2 billion" alike);
* stored: some stored passage of that document shows it at all (the ceiling: a figure the
  loader lost or the anonymizer replaced can never be found);
* rank: where the first passage showing it came.

With `answers` each question is also asked as a user asks it, the LLM answering, and it is
counted whether the answer, its top quote, or either shows the figure
(rag/evaluation/figure_answers.py).

Only passages of the question's own document count: "4,302" is Intel's R&D and Microsoft's
product cost of revenue.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from rag.config import Settings
from rag.evaluation.figure_answers import ANSWER_MEASURES, answer_summary, ask_for_figure
from rag.evaluation.figure_match import shows_figure
from rag.evaluation.store import files_store

TOP_K = 5


@dataclass(frozen=True)
class FigureQuestion:
    id: str
    question: str
    figure: str
    unit: str
    document: str
    page: int

    @property
    def in_millions(self) -> bool:
        return "million" in self.unit.lower()


def load_figure_questions(dataset: Path) -> tuple[Path, list[FigureQuestion]]:
    """(the documents' folder, the questions) from a figures dataset file."""
    if not dataset.is_file():
        raise FileNotFoundError(f"no dataset file {dataset}")
    raw = json.loads(dataset.read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or not isinstance(raw.get("questions"), list):
        raise ValueError(f"{dataset}: expected an object with a 'questions' list")
    questions = []
    for row in raw["questions"]:
        try:
            questions.append(
                FigureQuestion(
                    id=str(row["id"]),
                    question=str(row["question"]),
                    figure=str(row["figure"]),
                    unit=str(row.get("unit", "")),
                    document=str(row["document"]),
                    page=int(row["page"]),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{dataset}: question {row!r} lacks {exc}") from exc
    return (dataset.parent / str(raw.get("documents", "."))).resolve(), questions


def run_figures_eval(
    dataset: Path,
    settings: Settings,
    documents: Path | None = None,
    limit: int | None = None,
    top_k: int = TOP_K,
    anonymize: bool = True,
    log: Console | None = None,
    answers: bool = False,
    **parts: Any,
) -> dict:
    """Ingest the dataset's documents into a fresh store and search each question (and with
    `answers` ask it, the LLM answering); returns the payload. `parts` (embedder, anonymizer,
    generator) are handed to the service (tests share them)."""
    log = log or Console(stderr=True)
    if limit is not None and limit < 1:
        raise ValueError("--limit must be at least 1")
    folder, questions = load_figure_questions(dataset)
    folder = documents or folder
    questions = questions[:limit]
    wanted = sorted({q.document for q in questions})
    missing = [name for name in wanted if not (folder / name).is_file()]
    if missing:
        raise FileNotFoundError(f"not in {folder}: {', '.join(missing)}")
    log.print(f"{len(wanted)} documents, {len(questions)} questions")
    rows = []
    with files_store(
        [folder / name for name in wanted], settings, anonymize, log, **parts
    ) as store:
        service = store.service
        document_ids = _document_ids(service, store.names)
        started = time.perf_counter()
        for question in questions:
            document_id = document_ids.get(question.document)
            hits = service.search_for(question.question, top_k, None)
            own = [h for h in hits if h.document_id == document_id]
            rank = next(
                (
                    number
                    for number, hit in enumerate(hits, start=1)
                    if hit.document_id == document_id
                    and shows_figure(hit.text, question.figure, question.in_millions)
                ),
                None,
            )
            rows.append(
                {
                    "id": question.id,
                    "question": question.question,
                    "figure": question.figure,
                    "document": question.document,
                    "page": question.page,
                    "found": rank is not None,
                    "rank": rank,
                    "stored": _stored(service, document_id, question),
                    "retrieved": [
                        {
                            "document": _name_of(document_ids, h.document_id),
                            "pages": [h.page_start, h.page_end],
                        }
                        for h in hits
                    ],
                    "own_document_passages": len(own),
                }
            )
            if answers:
                rows[-1].update(
                    ask_for_figure(
                        service, question.question, question.figure, question.in_millions
                    )
                )
                log.print(f"{len(rows)}/{len(questions)} answered", highlight=False)
        seconds = time.perf_counter() - started
    found = sum(r["found"] for r in rows)
    summary = {
        "figure in a top passage": found / max(len(rows), 1),
        "figure stored": sum(r["stored"] for r in rows) / max(len(rows), 1),
        "ms/question": 1000 * seconds / max(len(rows), 1),
    }
    if answers:
        summary.update(answer_summary(rows))
        summary["llm"] = f"{settings.llm.backend} {settings.llm.model}"
    return {
        "dataset": str(dataset),
        "documents": len(wanted),
        "indexed_documents": store.indexed,
        "pages": store.pages,
        "chunks": store.chunks,
        "ingest_seconds": round(store.ingest_seconds, 1),
        "questions": len(rows),
        "top_k": top_k,
        "personal_data_removal": anonymize,
        "summary": summary,
        "failed": [r["id"] for r in rows if not r["found"]],
        "per_question": rows,
    }


def _document_ids(service, names: dict[str, str]) -> dict[str, int]:
    """The file's own name -> its document id (the store holds them under neutral names)."""
    from rag.db.models import Document

    with service.session_factory() as session:
        rows = session.execute(select(Document.id, Document.path)).all()
    return {names[Path(path).name]: doc_id for doc_id, path in rows if Path(path).name in names}


def _name_of(document_ids: dict[str, int], document_id: int) -> str:
    return next((name for name, i in document_ids.items() if i == document_id), "?")


def _stored(service, document_id: int | None, question: FigureQuestion) -> bool:
    from rag.db.models import Chunk

    if document_id is None:
        return False
    with service.session_factory() as session:
        texts = session.scalars(select(Chunk.text).where(Chunk.document_id == document_id))
        return any(shows_figure(text, question.figure, question.in_millions) for text in texts)


def figures_table(payload: dict) -> Table:
    name = Path(payload["dataset"]).name
    table = Table(
        title=f"Figures: {name} ({payload['questions']} questions, "
        f"{payload['pages']} pages in {payload['ingest_seconds']:.0f} s)"
    )
    table.add_column("measure")
    table.add_column("value", justify="right")
    summary = payload["summary"]
    top = f"figure in a top-{payload['top_k']} passage of its document"
    table.add_row(top, f"{100 * summary['figure in a top passage']:.1f} %")
    table.add_row("figure stored at all (ceiling)", f"{100 * summary['figure stored']:.1f} %")
    for measure in ANSWER_MEASURES:
        if measure in summary:
            table.add_row(measure, f"{100 * summary[measure]:.1f} %")
    table.add_row("ms/question", f"{summary['ms/question']:.0f}")
    if "llm" in summary:
        table.add_row("llm", summary["llm"])
    return table


def failures_table(payload: dict) -> Table:
    table = Table(title="Not found")
    for column in ("id", "figure", "document", "page", "stored", "question"):
        table.add_column(column)
    for row in payload["per_question"]:
        if not row["found"]:
            table.add_row(
                row["id"],
                row["figure"],
                row["document"],
                str(row["page"]),
                "yes" if row["stored"] else "no",
                row["question"],
            )
    return table
