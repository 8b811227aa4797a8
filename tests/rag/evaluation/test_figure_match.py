"""shows_figure: a figure as a filing prints it, found however a passage or an answer writes it."""

from __future__ import annotations

import pytest

from rag.evaluation.figure_match import figure_value, shows_figure


@pytest.mark.parametrize(
    "text",
    [
        "Services $ 21,213 $ 19,604 8 %",
        "Services 21,213 19,604",
        "Services revenue was $21,213 million.",
        "services were 21213",
        "about $21.21 billion",
        "$21.213 billion in the quarter",
        "(21,213)",
        "a loss of -21,213",
        "21,213 M",
    ],
)
def test_the_same_figure_written_otherwise_is_shown(text):
    assert shows_figure(text, "$ 21,213")


@pytest.mark.parametrize(
    "text",
    [
        "121,213 in all",  # a longer number
        "21,2134",
        "$21,213.5",
        "$21 billion",  # two digits say too little
        "$21.3 billion",  # rounded wrong
        "21,214",
        "",
    ],
)
def test_other_numbers_do_not_show_it(text):
    assert not shows_figure(text, "21,213")


def test_per_share_figures_are_not_scaled():
    assert shows_figure("Diluted $ 1.20 $ 1.30", "1.20", in_millions=False)
    assert shows_figure("diluted earnings of $1.2 per share", "1.20", in_millions=False)
    assert not shows_figure("1.201", "1.20", in_millions=False)
    assert not shows_figure("$1.20 billion", "1.20", in_millions=False)


def test_a_negative_figure_is_its_magnitude():
    assert figure_value("$ (2,466)") == 2466
    assert shows_figure("International operating loss of $2.47 billion", "(2,466)")


def test_a_figure_must_have_digits():
    with pytest.raises(ValueError):
        figure_value("n/a")
