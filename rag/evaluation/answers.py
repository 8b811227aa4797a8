"""`rag eval answers`: end-to-end answer quality against reference answers.

The dataset is a BEIR folder (corpus.jsonl, queries.jsonl) plus answers.json, which maps a
query id to its reference answers (["France"], or several phrasings of one answer). A fresh
store is built from the corpus (rag/evaluation/store.py), then each question with reference
answers is asked through the real service (retrieval, prompt packing, the configured LLM), as
a user would. Per question, with SQuAD's answer normalization (lower case, punctuation and the
articles a/an/the removed, whitespace collapsed), and a match only on whole words:

* cited: a cited passage (the text of the cited document's page) contains a reference answer;
  the answer was put in front of the model;
* answered: the generated answer contains a reference answer;
* found: the service answered at all instead of "not in the documents";
* seconds: wall time of the whole question, retrieval and generation.

With qrels (qrels/SPLIT.tsv) the share of questions whose judged passage was cited is reported
too. Containment is lenient towards long answers (a model that lists everything "contains"
the answer) and strict towards paraphrases ("ten" vs "10"): read it with the answers in the
JSON, not alone.
"""

from __future__ import annotations

import json
import re
import statistics
import string
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from rag.config import Settings
from rag.evaluation.retrieval import load_beir, pii_state
from rag.evaluation.store import eval_store

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation)


def normalize_answer(text: str) -> str:
    """SQuAD's normalization (the official evaluation script's normalize_answer)."""
    text = text.lower().translate(_PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def contains_answer(text: str, references: list[str]) -> bool:
    """Whether the normalized text holds a normalized reference as whole words."""
    haystack = f" {normalize_answer(text)} "
    return any(
        f" {needle} " in haystack for needle in (normalize_answer(r) for r in references) if needle
    )


def load_answers(dataset: Path) -> dict[str, list[str]]:
    path = dataset / "answers.json"
    if not path.is_file():
        raise ValueError(f"no answers.json in {dataset}")
    raw = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected an object of query id -> list of answers")
    answers = {}
    for qid, refs in raw.items():
        if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs):
            raise ValueError(f"{path}: the answers of query {qid!r} are not a list of strings")
        if any(r.strip() for r in refs):
            answers[str(qid)] = refs
    return answers


def _page_texts(service, citations) -> list[str]:
    """The full text of each cited document's cited page (a citation shows only a snippet)."""
    from rag.db.models import Chunk

    texts = []
    with service.session_factory() as session:
        for citation in citations:
            chunks = session.scalars(
                select(Chunk.text)
                .where(
                    Chunk.document_id == citation.document_id,
                    Chunk.page_start <= citation.page,
                    Chunk.page_end >= citation.page,
                )
                .order_by(Chunk.ordinal)
            )
            texts.append("\n".join(chunks))
    return texts


def run_answers_eval(
    dataset: Path,
    settings: Settings,
    limit: int | None = None,
    anonymize: bool = False,
    split: str = "test",
    log: Console | None = None,
    **parts: Any,
) -> dict:
    """Build a fresh store, ask each question with reference answers; returns the payload.
    `parts` (embedder, anonymizer, generator) are handed to the service (tests share them)."""
    log = log or Console(stderr=True)
    if limit is not None and limit < 1:
        raise ValueError("--limit must be at least 1")
    answers = load_answers(dataset)
    if not (dataset / "qrels" / f"{split}.tsv").is_file():
        raise ValueError(f"no qrels/{split}.tsv in {dataset}")
    corpus, queries, qrels = load_beir(dataset, split)
    asked = [qid for qid in queries if qid in answers]
    if not asked:
        raise ValueError(f"no query in {dataset}/queries.jsonl has reference answers")
    if limit is not None:
        asked = asked[:limit]
    log.print(
        f"{len(corpus)} documents, {len(asked)} questions with reference answers; "
        f"personal-data removal: {pii_state(anonymize)}"
    )
    rows = []
    with eval_store(corpus, settings, anonymize, log, **parts) as store:
        service = store.service
        service.load_all()  # models and index loaded before the clock starts
        for number, qid in enumerate(asked, start=1):
            started = time.perf_counter()
            answer = service.ask(queries[qid])
            seconds = time.perf_counter() - started
            cited_docs = [store.names.get(Path(c.path).name) for c in answer.citations]
            pages = _page_texts(service, answer.citations)
            rows.append(
                {
                    "id": qid,
                    "question": queries[qid],
                    "references": answers[qid],
                    "answer": answer.text,
                    "found": answer.found,
                    "cited_documents": cited_docs,
                    "cited": any(contains_answer(p, answers[qid]) for p in pages),
                    "answered": contains_answer(answer.text, answers[qid]),
                    "judged_cited": any(d in qrels.get(qid, {}) for d in cited_docs),
                    "seconds": round(seconds, 3),
                }
            )
            log.print(f"{number}/{len(asked)} {seconds:.1f}s", highlight=False)
    return {
        "dataset": str(dataset),
        "documents": len(corpus),
        "indexed_documents": store.indexed,
        "chunks": store.chunks,
        "questions": len(rows),
        "limit": limit,
        "personal_data_removal": anonymize,
        "retrieval": settings.retrieval.model_dump(),
        "embedding_model": settings.embedding.model,
        "llm": {
            "backend": settings.llm.backend,
            "model": settings.llm.model,
            "max_tokens": settings.llm.max_tokens,
        },
        "summary": summarize(rows),
        "per_question": rows,
    }


def summarize(rows: list[dict]) -> dict:
    if not rows:
        return {}
    count = len(rows)
    seconds = sorted(row["seconds"] for row in rows)
    return {
        "cited contains answer": sum(r["cited"] for r in rows) / count,
        "answer contains answer": sum(r["answered"] for r in rows) / count,
        "judged passage cited": sum(r["judged_cited"] for r in rows) / count,
        "found": sum(r["found"] for r in rows) / count,
        "s/question mean": statistics.fmean(seconds),
        "s/question median": statistics.median(seconds),
        "s/question p90": seconds[min(count - 1, int(0.9 * count))],
    }


def answers_table(payload: dict) -> Table:
    name = Path(payload["dataset"]).name
    table = Table(title=f"Answer quality: {name} ({payload['questions']} questions)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for measure, value in payload["summary"].items():
        shown = f"{value:.1f}" if measure.startswith("s/") else f"{100 * value:.1f} %"
        table.add_row(measure, shown)
    return table
