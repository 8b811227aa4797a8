"""`rag eval figures --answers`: does the answer a user gets show the figure asked for?

Issue 18's measure for the filing questions: each question is asked through the service as a
user asks it (`ask_stream`: retrieval, the quotes, the configured LLM; the answering path of
`rag eval answers`), and per question it is counted whether the generated answer shows the
figure, whether the top quote shows it, and whether either does
(rag/evaluation/figure_match.py: "$ 21,213", "21,213", "$21.2 billion" alike). A reader who
sees the quote under a wrong answer still sees the figure, hence "either".
"""

from __future__ import annotations

import time

from rag.evaluation.figure_match import shows_figure

# The summary's measures, each the share of questions whose row says so.
ANSWER_MEASURES = {
    "answer shows the figure": "answer_shows",
    "top quote shows the figure": "quote_shows",
    "answer or top quote shows the figure": "either_shows",
    "a quote shows the figure": "any_quote_shows",
}


def figure_shown(answer: str, quotes: list[str], figure: str, in_millions: bool) -> dict:
    """Where the figure shows: in the generated answer, the top quote, either, any quote."""

    def shows(text: str) -> bool:
        return shows_figure(text, figure, in_millions)

    answer_shows = shows(answer)
    quote_shows = bool(quotes) and shows(quotes[0])
    return {
        "answer_shows": answer_shows,
        "quote_shows": quote_shows,
        "either_shows": answer_shows or quote_shows,
        "any_quote_shows": any(shows(q) for q in quotes),
    }


def ask_for_figure(service, question: str, figure: str, in_millions: bool) -> dict:
    """One question through the service as a user asks it (the answer read to the end)."""
    started = time.perf_counter()
    answer = service.ask_stream(question)
    text = "".join(answer.tokens).strip()
    quotes = [q.text for q in answer.quotes]
    return {
        "answer": text,
        "found": answer.found,
        "quotes": quotes,
        **figure_shown(text, quotes, figure, in_millions),
        "answer_seconds": round(time.perf_counter() - started, 3),
    }


def answer_summary(rows: list[dict]) -> dict:
    """The share of `rows` (each with figure_shown's keys) for each measure."""
    count = max(len(rows), 1)
    return {name: sum(bool(r[key]) for r in rows) / count for name, key in ANSWER_MEASURES.items()}
