"""`rag eval answers`: end-to-end answer quality against reference answers.

The dataset is a BEIR folder (corpus.jsonl, queries.jsonl) plus answers.json, which maps a
query id to its reference answers (["France"], or several phrasings of one answer). A fresh
store is built from the corpus (rag/evaluation/store.py), then each question with reference
answers is asked through the real service (retrieval, prompt packing, the configured LLM), as
a user would. Per question, with SQuAD's answer normalization (lower case, punctuation and the
articles a/an/the removed, whitespace collapsed), and a match only on whole words:

* cited: a cited passage (the text of the cited document's page) contains a reference answer;
  the answer was put in front of the model;
* answered: the generated answer contains a reference answer: the answer is *right*;
* f1: SQuAD's token F1 of the answer against its best reference (the words they share, over
  the answer's and the reference's lengths: a long answer that holds the reference scores low);
* unsupported: the grounding check (rag/grounding.py) marks a sentence of the answer as not
  supported by the cited passages. Reported as the share of wrong answers it marks (what it
  catches) and of right answers it marks (what it flags wrongly);
* found: the service answered at all instead of "not in the documents";
* seconds: wall time of the whole question, retrieval and generation.

A dataset is a BEIR folder, or a JSON file of questions over a folder of documents
(tests/data/handbook_questions.json: {"corpus": folder relative to the file, "questions":
[{"id", "question", "answers", "source"}]}), the folder ingested as it is.

With qrels (qrels/SPLIT.tsv; a question file's `source`) the share of questions whose judged
passage was cited is reported too. Containment is lenient towards long answers (a model that
lists everything "contains" the answer) and strict towards paraphrases ("ten" vs "10"), token
F1 the other way round: read them with the answers in the JSON, not alone.
"""

from __future__ import annotations

import json
import re
import statistics
import string
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from rag.config import Settings
from rag.evaluation.retrieval import load_beir, pii_state
from rag.evaluation.store import eval_folder_store, eval_store

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


def token_f1(text: str, references: list[str]) -> float:
    """SQuAD's token F1 against the best-matching reference (0 without references)."""
    words = normalize_answer(text).split()
    best = 0.0
    for reference in references:
        wanted = normalize_answer(reference).split()
        shared = sum((Counter(words) & Counter(wanted)).values())
        if shared:
            precision, recall = shared / len(words), shared / len(wanted)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


@dataclass
class AnswerSet:
    """What `rag eval answers` asks: the documents, the questions with reference answers, and
    the documents judged to answer each (a corpus id, or a path in the folder)."""

    corpus: dict[str, tuple[str, str]] | Path  # a BEIR corpus, or a folder to ingest
    questions: dict[str, str]
    answers: dict[str, list[str]]
    judged: dict[str, set[str]]


def load_answer_set(dataset: Path, split: str = "test", corpus: Path | None = None) -> AnswerSet:
    """A BEIR folder with answers.json, or a question file (JSON) over a folder."""
    if dataset.is_file():
        return load_question_file(dataset, corpus)
    answers = load_answers(dataset)
    if not (dataset / "qrels" / f"{split}.tsv").is_file():
        raise ValueError(f"no qrels/{split}.tsv in {dataset}")
    documents, queries, qrels = load_beir(dataset, split)
    judged = {qid: set(docs) for qid, docs in qrels.items()}
    return AnswerSet(documents, queries, answers, judged)


def load_question_file(path: Path, corpus: Path | None = None) -> AnswerSet:
    """{"corpus": folder (relative to the file), "questions": [{"id", "question", "answers",
    "source"}]}; `corpus` overrides the file's folder."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        folder = corpus or (path.parent / raw["corpus"]).resolve()
        rows = raw["questions"]
        questions = {str(r["id"]): str(r["question"]) for r in rows}
        answers = {str(r["id"]): [str(a) for a in r["answers"]] for r in rows}
        judged = {str(r["id"]): {str(r["source"])} for r in rows if r.get("source")}
    except (KeyError, TypeError, json.JSONDecodeError) as exc:
        raise ValueError(
            f"{path}: expected {{corpus, questions: [{{id, question, answers, source}}]}} "
            f"({type(exc).__name__}: {exc})"
        ) from exc
    if not folder.is_dir():
        raise ValueError(f"{path}: the corpus folder {folder} does not exist (--corpus)")
    return AnswerSet(folder, questions, answers, judged)


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
    corpus: Path | None = None,
    **parts: Any,
) -> dict:
    """Build a fresh store, ask each question with reference answers; returns the payload.
    `parts` (embedder, anonymizer, generator) are handed to the service (tests share them)."""
    log = log or Console(stderr=True)
    if limit is not None and limit < 1:
        raise ValueError("--limit must be at least 1")
    answer_set = load_answer_set(dataset, split, corpus)
    questions, answers = answer_set.questions, answer_set.answers
    asked = [qid for qid in questions if qid in answers and any(a.strip() for a in answers[qid])]
    if not asked:
        raise ValueError(f"no question of {dataset} has reference answers")
    if limit is not None:
        asked = asked[:limit]
    documents = answer_set.corpus
    described = f"the folder {documents}" if isinstance(documents, Path) else len(documents)
    log.print(
        f"{described} documents, {len(asked)} questions with reference answers; "
        f"personal-data removal: {pii_state(anonymize)}"
    )
    store_for = eval_folder_store if isinstance(documents, Path) else eval_store
    rows = []
    with store_for(documents, settings, anonymize, log, **parts) as store:
        service = store.service
        service.load_all()  # models and index loaded before the clock starts
        backend = service.embedder.settings.backend  # what `auto` took on this machine
        for number, qid in enumerate(asked, start=1):
            rows.append(ask_one(store, qid, questions[qid], answers[qid], answer_set.judged))
            log.print(f"{number}/{len(asked)} {rows[-1]['seconds']:.1f}s", highlight=False)
    return {
        "dataset": str(dataset),
        "documents": store.indexed if isinstance(documents, Path) else len(documents),
        "indexed_documents": store.indexed,
        "chunks": store.chunks,
        "questions": len(rows),
        "limit": limit,
        "personal_data_removal": anonymize,
        "retrieval": settings.retrieval.model_dump(),
        "embedding_model": settings.embedding.model,
        "embedding_backend": backend,
        "llm": {
            "backend": settings.llm.backend,
            "model": settings.llm.model,
            "max_tokens": settings.llm.max_tokens,
            "temperature": settings.llm.temperature,
            "repeat_penalty": settings.llm.repeat_penalty,
        },
        "answer": settings.answer.model_dump(),
        "summary": summarize(rows),
        "per_question": rows,
    }


def ask_one(
    store, qid: str, question: str, references: list[str], judged: dict, keep_texts: bool = False
) -> dict:
    """One question through the service, as a user asks it, with its measures; with
    `keep_texts` also the passages the grounding check read and the quotes (to tune the check
    offline: bench/grounding_tuning.py)."""
    service = store.service
    started = time.perf_counter()
    answer = service.ask_stream(question)
    first_token = None
    pieces = []
    for piece in answer.tokens:
        if first_token is None and piece.strip():
            first_token = time.perf_counter() - started
        pieces.append(piece)
    seconds = time.perf_counter() - started
    text = answer.text = "".join(pieces).strip()
    cited_docs = [store.document_of(c.path) for c in answer.citations]
    pages = _page_texts(service, answer.citations)
    right = contains_answer(text, references)
    sentences = answer.checked(text)[1] if answer.found else []
    unsupported = [s for s in sentences if not s.grounded]
    texts = (
        {
            "passages": answer.passages,
            "quotes": [{"citation": q.citation, "text": q.text} for q in answer.quotes],
        }
        if keep_texts
        else {}
    )
    return {
        "id": qid,
        "question": question,
        "references": references,
        "answer": text,
        "found": answer.found,
        "cited_documents": cited_docs,
        "cited": any(contains_answer(p, references) for p in pages),
        "answered": right,
        "f1": round(token_f1(text, references), 4),
        "unsupported": bool(unsupported),
        "unsupported_reason": unsupported[0].reason if unsupported else None,
        "top_quote": answer.quotes[0].text if answer.quotes else None,
        "quote_contains": bool(answer.quotes)
        and contains_answer(answer.quotes[0].text, references),
        "judged_cited": any(d in judged.get(qid, set()) for d in cited_docs),
        "prompt_tokens": answer.usage().prompt_tokens,
        "completion_tokens": answer.usage().completion_tokens,
        "first_token_seconds": None if first_token is None else round(first_token, 3),
        "seconds": round(seconds, 3),
        **texts,
    }


def summarize(rows: list[dict]) -> dict:
    if not rows:
        return {}
    count = len(rows)
    seconds = sorted(row["seconds"] for row in rows)
    right = [r for r in rows if r["answered"]]
    wrong = [r for r in rows if not r["answered"] and r["found"]]
    first = sorted(r["first_token_seconds"] for r in rows if r.get("first_token_seconds"))
    prompts = sorted(r["prompt_tokens"] for r in rows if r.get("prompt_tokens"))
    summary = {
        "cited contains answer": sum(r["cited"] for r in rows) / count,
        "answer contains answer": len(right) / count,
        "answer token F1": statistics.fmean(r["f1"] for r in rows),
        "top quote contains answer": sum(r["quote_contains"] for r in rows) / count,
        "judged passage cited": sum(r["judged_cited"] for r in rows) / count,
        "found": sum(r["found"] for r in rows) / count,
        # The grounding check: of the wrong answers (found, no reference in them) the share
        # it marks unsupported, and of the right ones the share it marks all the same.
        "wrong answers marked unsupported": _share(wrong),
        "right answers marked unsupported": _share(right),
        "s/question mean": statistics.fmean(seconds),
        "s/question median": statistics.median(seconds),
        "s/question p90": seconds[min(count - 1, int(0.9 * count))],
    }
    if first:
        summary["s/first token median"] = statistics.median(first)
    if prompts:
        summary["prompt tokens median"] = statistics.median(prompts)
    return summary


def _share(rows: list[dict]) -> float | None:
    return sum(r["unsupported"] for r in rows) / len(rows) if rows else None


def answers_table(payload: dict) -> Table:
    name = Path(payload["dataset"]).name
    table = Table(title=f"Answer quality: {name} ({payload['questions']} questions)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for measure, value in payload["summary"].items():
        if value is None:
            shown = "n/a"
        elif measure.startswith("s/"):
            shown = f"{value:.1f}"
        elif measure.startswith("prompt tokens"):
            shown = f"{value:.0f}"
        elif measure == "answer token F1":
            shown = f"{value:.3f}"
        else:
            shown = f"{100 * value:.1f} %"
        table.add_row(measure, shown)
    return table
