"""A bare figure at the end of an answer gets its unit from the quote (rag/figure_units.py)."""

from __future__ import annotations

import pytest

from rag.figure_units import asked_units, unit_after, units_from_quotes

PARENTAL = "Employees are entitled to 12 weeks of paid parental leave after a birth."
LEAVE = "Full-time staff get 27 days of annual leave per year, plus public holidays."


def streamed(pieces: list[str], quotes: list[str]) -> str:
    return "".join(units_from_quotes(iter(pieces), quotes))


@pytest.mark.parametrize(
    ("pieces", "expected"),
    [
        (["The answer is", " 12", "."], "The answer is 12 weeks."),
        (["The answer is: ", "1", "2"], "The answer is: 12 weeks"),
        (["The answer is 12", ".", " "], "The answer is 12 weeks. "),
        # The model gave a unit, or went on after the figure: left as it is.
        (["The answer is 12 weeks", "."], "The answer is 12 weeks."),
        (["12", " weeks", " of leave."], "12 weeks of leave."),
        (["After 12", ". Then", " more."], "After 12. Then more."),
        # Another figure than the quote's: nothing to add.
        (["The answer is 4", "."], "The answer is 4."),
        (["The answer is 1", "2,", "000."], "The answer is 12,000."),
    ],
)
def test_a_bare_figure_gets_the_quotes_unit_and_nothing_else_changes(pieces, expected):
    assert streamed(pieces, [PARENTAL]) == expected


def test_the_unit_comes_from_the_first_quote_that_gives_the_figure_one():
    assert streamed(["The answer is: 27"], ["There are 27 offices.", LEAVE]) == (
        "The answer is: 27 days"
    )


@pytest.mark.parametrize(
    ("figure", "quote", "unit"),
    [
        ("27", LEAVE, "days"),
        ("40", "The gym subsidy is 40 euros per month.", "euros"),
        ("15", "Prices rose 15% in a year.", "%"),
        ("2022", "In fiscal 2022 revenue grew.", None),  # a year: no unit after it
        ("12", "Total: 12,000 hours", None),  # another figure that starts alike
        ("2", "Version 1.2 days", None),  # the end of a decimal
        ("12", "12 apples", None),  # not a unit
    ],
)
def test_the_unit_is_the_quotes_next_word_when_it_is_a_unit(figure, quote, unit):
    assert unit_after(figure, [quote]) == unit


def test_only_the_punctuation_after_a_figure_waits_for_the_next_piece():
    pieces = units_from_quotes(iter(["The answer is", " 12", ".", " More", " text."]), [PARENTAL])
    assert next(pieces) == "The answer is"
    assert next(pieces) == " 12"
    assert next(pieces) == ". More"  # a word came: the held period goes out with it
    assert list(pieces) == [" text."]


def test_without_quotes_or_figures_the_stream_is_unchanged():
    assert streamed(["Nothing", " here."], []) == "Nothing here."
    assert list(units_from_quotes(iter(["a", "b"]), [PARENTAL])) == ["a", "b"]


def test_where_the_question_names_a_unit_only_that_unit_is_taken():
    quote = "After 12 months of service you get 12 weeks of paid parental leave."
    question = "How many weeks of paid parental leave do I get?"
    assert unit_after("12", [quote], question) == "weeks"
    assert unit_after("12", [quote]) == "months"  # no unit asked: the first
    assert unit_after("12", ["12 months of service"], question) is None
    assert streamed(["The answer is 12."], [quote]) == "The answer is 12 months."
    pieces = units_from_quotes(iter(["The answer is 12."]), [quote], question)
    assert "".join(pieces) == "The answer is 12 weeks."


@pytest.mark.parametrize(
    ("question", "units"),
    [
        ("How many weeks of paid parental leave do I get?", {"week"}),
        ("What is the maximum number of annual leave hours I can carry over?", {"hour"}),
        # The "years" of a condition is not what the figure is asked in.
        ("How much annual leave do I earn per pay period with fewer than 3 years?", set()),
        ("When did the Normans attack Dyrrachium?", set()),
    ],
)
def test_the_asked_unit_follows_how_many_or_number_of(question, units):
    assert asked_units(question) == units


@pytest.mark.parametrize("pieces", [["See [", "12", "]."], ["It is on page 12", "."]])
def test_a_citation_mark_or_a_page_number_takes_no_unit(pieces):
    assert streamed(pieces, [PARENTAL]) == "".join(pieces)
