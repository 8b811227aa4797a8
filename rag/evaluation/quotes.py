"""`rag eval quotes`: how often an answer's top quote holds a reference answer, no LLM run.

The store and questions are those of `rag eval answers` (a BEIR folder with answers.json).
Each question is asked through the real service up to the point where the prompt is packed
(retrieval, packing, quotes; the generation is never started), and its passages are quoted
once per dense weight asked for (rag/quotes.py; the sentence vectors are shared). Per weight:
the top quote, and any quote, contains a reference answer (SQuAD normalization, whole words,
rag/evaluation/answers.py); beside them, how often a quoted passage does (the ceiling).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from rag.config import Settings
from rag.evaluation.answers import contains_answer, load_answers
from rag.evaluation.retrieval import load_beir
from rag.evaluation.store import eval_store
from rag.quotes import QUOTED_PASSAGES, SentenceQuotes


def run_quotes_eval(
    dataset: Path,
    settings: Settings,
    dense_weights: list[float],
    limit: int | None = None,
    split: str = "test",
    log: Console | None = None,
    **parts: Any,
) -> dict:
    log = log or Console(stderr=True)
    if limit is not None and limit < 1:
        raise ValueError("--limit must be at least 1")
    if not dense_weights or any(not 0 <= w <= 1 for w in dense_weights):
        raise ValueError("--dense-weights: one or more numbers from 0 to 1")
    answers = load_answers(dataset)
    corpus, queries, _ = load_beir(dataset, split)
    asked = [qid for qid in queries if qid in answers][:limit]
    if not asked:
        raise ValueError(f"no query in {dataset}/queries.jsonl has reference answers")
    log.print(f"{len(corpus)} documents, {len(asked)} questions with reference answers")
    counts = {w: {"top": 0, "any": 0} for w in dense_weights}
    ceiling = 0
    rows = []
    with eval_store(corpus, settings, False, log, **parts) as store:
        service = store.service
        finder = service.quotes  # its sentence vectors, cached while the service quoted
        if not isinstance(finder, SentenceQuotes):
            raise ValueError("rag eval quotes measures SentenceQuotes")
        started = time.perf_counter()
        for number, qid in enumerate(asked, start=1):
            answer = service.ask_stream(queries[qid])
            close = getattr(answer.tokens, "close", None)
            if close is not None:
                close()  # never generated: only the packed passages are wanted
            references = answers[qid]
            ceiling += any(
                contains_answer(p, references) for p in answer.passages[:QUOTED_PASSAGES]
            )
            row = {"id": qid, "references": references, "top": {}}
            for weight in dense_weights:
                quotes = finder.with_weight(weight).find(queries[qid], answer.passages)
                top = bool(quotes) and contains_answer(quotes[0].text, references)
                counts[weight]["top"] += top
                counts[weight]["any"] += any(contains_answer(q.text, references) for q in quotes)
                row["top"][str(weight)] = quotes[0].text if quotes else ""
            rows.append(row)
            if number % 100 == 0:
                so_far = ", ".join(
                    f"w={w}: {100 * c['top'] / number:.1f} %" for w, c in counts.items()
                )
                log.print(
                    f"{number}/{len(asked)} {time.perf_counter() - started:.0f}s, "
                    f"top quote contains a reference so far: {so_far}"
                )
    total = len(asked)
    return {
        "dataset": str(dataset),
        "questions": total,
        "limit": limit,
        "quoted_passages": QUOTED_PASSAGES,
        "quoted passage contains answer": ceiling / total,
        "per_weight": {
            str(w): {
                "top quote contains answer": c["top"] / total,
                "a quote contains answer": c["any"] / total,
            }
            for w, c in counts.items()
        },
        "per_question": rows,
    }


def quotes_table(payload: dict) -> Table:
    name = Path(payload["dataset"]).name
    table = Table(title=f"Quotes: {name} ({payload['questions']} questions)")
    for column in ("dense weight", "top quote contains", "a quote contains"):
        table.add_column(column, justify="right")
    for weight, figures in payload["per_weight"].items():
        table.add_row(
            weight,
            f"{100 * figures['top quote contains answer']:.1f} %",
            f"{100 * figures['a quote contains answer']:.1f} %",
        )
    ceiling = payload["quoted passage contains answer"]
    table.caption = f"a quoted passage contains the answer: {100 * ceiling:.1f} %"
    return table
