"""`rag eval figures --answers`: where the figure shows (answer, top quote, either), counted."""

from __future__ import annotations

from rag.evaluation.figure_answers import answer_summary, figure_shown


def test_the_answer_or_the_top_quote_shows_the_figure():
    quotes = ["Total net sales were $ 82,959 million.", "Research and development 6,797"]
    shown = figure_shown("Net sales were $82.96 billion [1].", quotes, "82,959", True)
    assert shown == {
        "answer_shows": True,
        "quote_shows": True,
        "either_shows": True,
        "any_quote_shows": True,
    }
    # A wrong answer: the top quote still shows it.
    shown = figure_shown("Net sales were 6,797 [1].", quotes, "82,959", True)
    assert not shown["answer_shows"] and shown["quote_shows"] and shown["either_shows"]
    # Only the second quote shows it: "either" counts the top quote only.
    shown = figure_shown("I do not know.", quotes, "6,797", True)
    assert not shown["quote_shows"] and not shown["either_shows"] and shown["any_quote_shows"]
    # No quotes, an answer that shows a longer number only.
    shown = figure_shown("It was 182,959.", [], "82,959", True)
    assert not any(shown.values())
    # A per-share figure is not matched in billions.
    assert not figure_shown("$1.2 billion", [], "1.20", False)["answer_shows"]


def test_summary_counts_each_measure_over_all_questions():
    rows = [
        figure_shown("82,959", ["no figure here"], "82,959", True),  # the answer only
        figure_shown("wrong", ["82,959 in total"], "82,959", True),  # the quote only
        figure_shown("wrong", ["none", "82,959"], "82,959", True),  # the second quote only
        figure_shown("wrong", [], "82,959", True),  # neither
    ]
    assert answer_summary(rows) == {
        "answer shows the figure": 1 / 4,
        "top quote shows the figure": 1 / 4,
        "answer or top quote shows the figure": 2 / 4,
        "a quote shows the figure": 2 / 4,
    }
    assert answer_summary([]) == {name: 0.0 for name in answer_summary(rows)}
