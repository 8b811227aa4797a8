"""Names joined by "and" or listed, where a known name shows what the unknown one is."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from rag.privacy.recognizers.person_lists import PersonListRecognizer


@pytest.fixture(scope="module")
def recognizer() -> PersonListRecognizer:
    return PersonListRecognizer()


def _names(recognizer, text: str) -> list[str]:
    return [text[r.start : r.end] for r in recognizer.analyze(text, ["PERSON"])]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Qorvashi and Henderson were the engineers.", ["Qorvashi", "Henderson"]),
        ("the paper by Brown and Okpewho shows it", ["Brown", "Okpewho"]),
        ("qorvashi and henderson were late", ["qorvashi", "henderson"]),
        (
            "we invited 5: zhenya, patricia, oluwaseun, jordan and niamh.",
            ["zhenya", "patricia", "oluwaseun", "jordan", "niamh"],
        ),
        (
            "Invited: Yeraldine, Margarethe, Chad and Siobhan.",
            ["Yeraldine", "Margarethe", "Chad", "Siobhan"],
        ),
    ],
)
def test_finds_names_beside_known_names(recognizer, text, expected):
    assert _names(recognizer, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Barnett, Melton and Qorvashi is a law firm.",  # after a comma: a firm's name
        "Sales in Japan and Korea grew.",
        "Research and Development costs rose in Sep and Oct.",
        "Microsoft and Nvidia were the largest holdings.",  # no known name among them
        "The Johnson and Qorvashi Orchestra played.",  # a firm's word after the pair
        "Standard And Poors rated the notes.",
        "provided that the Company and Awardee’s actual employer shall withhold",
        "Revenue for May, June and April is unaudited.",  # no distinctive given name
        "Americas, Europe, Greater China and Japan segments",
    ],
)
def test_leaves_other_words_alone(recognizer, text):
    assert _names(recognizer, text) == []


def test_only_for_person_requests(recognizer):
    assert recognizer.analyze("Qorvashi and Henderson were", ["EMAIL_ADDRESS"]) == []


def test_a_pair_spacy_calls_places_is_no_pair_of_names(recognizer):
    text = "Attorneys General for the District of Columbia and California sued."
    start = text.index("Columbia")
    places = SimpleNamespace(
        entities=[SimpleNamespace(label_="GPE", start_char=start, end_char=start + 8)]
    )
    assert recognizer.analyze(text, ["PERSON"], places) == []
