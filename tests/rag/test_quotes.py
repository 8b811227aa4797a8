"""Quotes on hand-written passages. The logic is tested with a bag-of-words embedder; the real
one picks the quotes in tests/rag/api/test_quotes_api.py and tests/e2e/test_ask_examples.py."""

from __future__ import annotations

import re
import zlib

import numpy as np
import pytest

import rag.quotes as quotes_module
from rag.answer import _snippet
from rag.embed.inputs import TokenVectors
from rag.quotes import MAX_WORDS, SentenceQuotes, overlap_scores, quote_words, restore_quotes
from rag.text_units import collapsed, units

LEAVE = (
    "Annual leave\n\nAll staff are welcome to the summer party. Full-time employees receive "
    "27 days of paid annual leave per calendar year.\nLeave must be requested   in the HR "
    "portal two weeks ahead."
)


class WordsEmbedder:
    """A vector per text from its lower-cased words (hashed into 64 slots), normalized; a
    token per word, its vector the word's own slot (no context)."""

    def __init__(self) -> None:
        self.embedded: list[str] = []
        self.read_tokens: list[str] = []

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(64, dtype=np.float32)
        for word in text.lower().replace("?", " ").replace(".", " ").split():
            # crc32, not hash(): str hashes change from one process to the next.
            vector[zlib.crc32(word.encode()) % 64] += 1
        return vector / (np.linalg.norm(vector) or 1)

    def embed(self, texts):
        self.embedded.extend(texts)
        return np.array([self._vector(t) for t in texts])

    def embed_query(self, texts):
        return np.array([self._vector(t) for t in texts])

    def embed_tokens(self, texts):
        self.read_tokens.extend(texts)
        return [self._tokens(t) for t in texts]

    def embed_query_tokens(self, texts):
        return [self._tokens(t) for t in texts]

    def _tokens(self, text: str) -> TokenVectors:
        words = list(re.finditer(r"\w+", text))
        spans = np.array([w.span() for w in words], dtype=np.int64).reshape(-1, 2)
        vectors = np.zeros((len(words), 64), dtype=np.float32)
        for row, word in enumerate(words):
            vectors[row, zlib.crc32(self._word(word.group(0)).encode()) % 64] = 1
        return TokenVectors(spans, vectors)

    def _word(self, word: str) -> str:
        return word.lower()


def test_units_are_sentences_and_table_rows():
    text = (
        "Dr. Smith signs it, e.g. in March. Then it is done!\n"
        "| Item | 2023 | 2024 |\n| Travel | 10 | 12 |\n"
        "Part-time staff get a\npro-rata share."
    )
    shown = [(text[u.start : u.end], u.table_row, u.header) for u in units(text)]
    assert shown == [
        ("Dr. Smith signs it, e.g. in March.", False, False),
        ("Then it is done!", False, False),
        ("| Item | 2023 | 2024 |", True, True),
        ("| Travel | 10 | 12 |", True, False),
        ("Part-time staff get a\npro-rata share.", False, False),
    ]


def test_a_heading_is_a_unit_of_its_own():
    text = "Annual leave\nEmployees get 27 days."
    assert [text[u.start : u.end] for u in units(text)] == [
        "Annual leave",
        "Employees get 27 days.",
    ]


def test_the_quote_holds_the_sentence_that_answers_with_a_neighbour():
    finder = SentenceQuotes(WordsEmbedder())
    quotes = finder.find("How many days of paid annual leave do employees get?", [LEAVE])
    assert "27 days" in quotes[0].text
    # Two sentences at most: the answering one and one beside it, never all three.
    assert not ("summer party" in quotes[0].text and "HR portal" in quotes[0].text)
    # The second quote shares no sentence with the first.
    assert "27 days" not in quotes[1].text


def test_offsets_are_in_the_collapsed_passage_and_its_snippet():
    quote = SentenceQuotes(WordsEmbedder()).find("How to request leave in the HR portal?", [LEAVE])[
        0
    ]
    passage, _, _ = collapsed(LEAVE)
    assert passage[quote.start : quote.end] == quote.text
    assert quote.text.endswith("Leave must be requested in the HR portal two weeks ahead.")
    assert _snippet(LEAVE)[quote.start : quote.end] == quote.text  # the snippet shows it
    assert quote.citation == 1


def test_quotes_come_from_the_best_passages_with_their_citation_number():
    other = (
        "Parking\n\nThe car park opens at seven in the morning on weekdays. Bicycles go in "
        "the basement."
    )
    finder = SentenceQuotes(WordsEmbedder(), passages=2)
    quotes = finder.find("When does the car park open?", [LEAVE, other, "The car park open"])
    assert quotes[0].citation == 2
    assert quotes[0].text.startswith("The car park opens at seven in the morning on weekdays.")
    assert all(q.citation in (1, 2) for q in quotes)  # the third passage is not quoted


def test_the_sentence_holding_what_the_question_asks_for_wins(monkeypatch):
    # The first resembles the question more, but only the second holds a number.
    passages = [
        "How the gym subsidy is paid by the company per employee is up to HR.",
        "The gym subsidy paid by the company is 40 euros per employee.",
    ]
    question = "How much is the gym subsidy paid by the company per employee?"
    quote = SentenceQuotes(WordsEmbedder()).find(question, passages)[0]
    assert quote.citation == 2 and "40 euros" in quote.text
    # Without the answer type the first would win: the type is what decides.
    monkeypatch.setattr(quotes_module, "ANSWER_TYPE_WEIGHT", 0.0)
    assert SentenceQuotes(WordsEmbedder()).find(question, passages)[0].citation == 1


def test_two_sentences_are_quoted_together_only_when_they_fit_in_sixty_words():
    long = "The canteen opens at noon " + "and serves " * 27 + "soup."  # 60 words
    passage = long + " It closes at three."
    quote = SentenceQuotes(WordsEmbedder()).find("When does the canteen open?", [passage])[0]
    assert quote.text.endswith("soup.")  # alone: with the next one it would pass 60 words
    assert len(quote.text.split()) <= MAX_WORDS


def test_a_table_quote_is_one_row():
    table = "Per diem\n| Country | Meals | Hotel |\n| Germany | 28 | 120 |\n| France | 30 | 140 |"
    quote = SentenceQuotes(WordsEmbedder()).find("meals per diem France", [table])[0]
    assert quote.text == "| France | 30 | 140 |"


def test_a_short_sentence_takes_the_next_one_with_it():
    passage = "Gym subsidy. The company pays 40 euros per month towards a gym. Ask HR."
    quote = SentenceQuotes(WordsEmbedder()).find("gym subsidy", [passage])[0]
    assert quote.text == "Gym subsidy. The company pays 40 euros per month towards a gym."


def test_a_quote_has_at_most_sixty_words():
    long = "leave " + " ".join(f"word{i}" for i in range(100)) + "."
    quote = SentenceQuotes(WordsEmbedder()).find("leave", [long])[0]
    assert len(quote.text.split()) == MAX_WORDS
    assert quote.text.split() == long.split()[:MAX_WORDS]


def test_no_passages_no_quotes():
    assert SentenceQuotes(WordsEmbedder()).find("anything?", []) == []


def test_a_question_without_a_token_to_compare_still_gets_quotes():
    quotes = SentenceQuotes(WordsEmbedder()).find("???", [LEAVE])
    assert quotes and all(np.isfinite(q.score) for q in quotes)


def test_sentence_and_token_vectors_are_cached():
    embedder = WordsEmbedder()
    finder = SentenceQuotes(embedder)
    finder.find("leave?", [LEAVE])
    first = len(embedder.embedded)
    finder.find("how much leave?", [LEAVE])
    assert first == len([u for u in units(LEAVE) if not u.header])
    assert len(embedder.embedded) == first
    assert embedder.read_tokens == [LEAVE]  # the passage's tokens are read once, whole


class SynonymsEmbedder(WordsEmbedder):
    """Every sentence vector alike; a token reads "supplanted" as "replaced" (in context, a
    model's token vectors of near synonyms are close)."""

    def _vector(self, text: str) -> np.ndarray:
        return np.ones(4, dtype=np.float32) / 2

    def _word(self, word: str) -> str:
        return {"supplanted": "replaced"}.get(word.lower(), word.lower())


def test_late_interaction_finds_the_sentence_whose_tokens_mean_the_questions(monkeypatch):
    # The same question words in both (frame, relay), the same sentence cosine: only the
    # token of "supplanted" meeting the question's "replaced" tells them apart.
    passage = (
        "Frame Relay was a popular standard, and Frame Relay networks were cheap. "
        "Frame Relay was later supplanted by Ethernet services."
    )
    question = "What replaced Frame Relay?"
    quote = SentenceQuotes(SynonymsEmbedder()).find(question, [passage])[0]
    assert quote.text == "Frame Relay was later supplanted by Ethernet services."
    monkeypatch.setattr(quotes_module, "LATE_WEIGHT", 0.0)
    assert "popular" in SentenceQuotes(SynonymsEmbedder()).find(question, [passage])[0].text


def test_a_passage_past_the_models_window_is_read_again_from_the_sentence_it_cut():
    class ShortWindow(WordsEmbedder):
        def _tokens(self, text: str) -> TokenVectors:
            whole = super()._tokens(text)
            return TokenVectors(whole.spans[:8], whole.vectors[:8])  # a window of 8 tokens

    embedder = ShortWindow()
    passage = "One two three four five. Six seven eight nine ten. Eleven twelve thirteen."
    quote = SentenceQuotes(embedder).find("Which number is thirteen?", [passage])[0]
    assert quote.text.endswith("Eleven twelve thirteen.")
    # Cut in the second sentence: read again from it, then from the third.
    assert embedder.read_tokens == [
        passage,
        "Six seven eight nine ten. Eleven twelve thirteen.",
    ]


@pytest.mark.parametrize("originals", [{"<PERSON_0a1b2c3d>": "Anna Berg"}, {}])
def test_restored_quotes_show_the_askers_values_with_moved_offsets(originals):
    passage = "Contact\n\nAsk <PERSON_0a1b2c3d> about leave. <PERSON_0a1b2c3d> approves leave."
    quote = SentenceQuotes(WordsEmbedder()).find("who approves leave", [passage])[0]
    restored = restore_quotes([quote], [passage], originals)[0]
    shown, _, _ = collapsed(
        passage.replace(
            "<PERSON_0a1b2c3d>", originals.get("<PERSON_0a1b2c3d>", "<PERSON_0a1b2c3d>")
        )
    )
    assert shown[restored.start : restored.end] == restored.text
    assert restored.text.endswith("approves leave.")
    assert ("Anna Berg" in restored.text) == bool(originals)


def test_words_meet_without_accents_possessives_and_with_numbers():
    assert {"rollo", "temur", "102"} <= quote_words("Did Rollo's son or Temür sign Article 102?")
    assert {"rollo", "temur", "102"} <= quote_words("Rollo and Temur signed article 102.")
    texts = ["Article 101 prohibits cartels.", "Article 102 prohibits the abuse of dominance."]
    overlap = overlap_scores("What does Article 102 prohibit?", texts)
    assert overlap[1] > overlap[0]  # only the number tells them apart
    overlap = overlap_scores("Who was Céloron's ally?", ["Celoron had no ally.", "Nobody."])
    assert overlap[0] > 0 and overlap[1] == 0


class FixedEmbedder(WordsEmbedder):
    """Every sentence as close to the question as every other: the words decide."""

    def _vector(self, text: str) -> np.ndarray:
        return np.ones(4, dtype=np.float32) / 2


def test_a_sentence_beside_the_one_resembling_the_question_wins_a_tie():
    # Sentences too long to pair. The two "served" sentences hold the same question words
    # (and more of them than the canteen sentence); the one beside the canteen sentence comes
    # first, though its passage comes second.
    filler = " ".join(["indeed"] * 30)
    gym = f"The gym is on the roof {filler}. Meals are served from one {filler}."
    canteen = f"The canteen is on the ground floor {filler}. Meals are served from noon {filler}."
    quotes = SentenceQuotes(FixedEmbedder()).find(
        "When are meals served at the canteen?", [gym, canteen]
    )
    assert quotes[0].citation == 2 and quotes[0].text.startswith("Meals are served from noon")
    assert quotes[1].citation == 1 and quotes[1].text.startswith("Meals are served from one")


def test_a_pair_whose_second_sentence_points_back_is_quoted_together():
    passage = (
        "Ladner showed that if P is not NP there are problems in NP of neither kind. "
        "Such problems are called NP-intermediate problems. Graph isomorphism may be one."
    )
    quote = SentenceQuotes(FixedEmbedder()).find("Ladner problems neither kind", [passage])[0]
    assert quote.text.endswith("Such problems are called NP-intermediate problems.")


def test_a_loaders_table_row_is_a_unit_and_a_quote_of_its_own():
    passage = (
        "Cash flows (in millions):\n"
        "Accounts payable; Nine Months Ended June 25, 2022: (6,108); Nine Months Ended June 26, "
        "2021: (1,786)\n"
        "Cash generated by operating activities; Nine Months Ended June 25, 2022: 98,024; Nine "
        "Months Ended June 26, 2021: 83,838\n"
        "Investing activities:"
    )
    rows = [passage[u.start : u.end] for u in units(passage) if u.table_row]
    assert [row.split(";")[0] for row in rows] == [
        "Accounts payable",
        "Cash generated by operating activities",
    ]
    # Prose with a semicolon and a colon is not a row: it has no figure in a cell.
    prose = "You could meet weekly; a good default is: half an hour\nin the morning."
    assert not any(u.table_row for u in units(prose))
    question = "How much cash was generated by operating activities in the nine months?"
    quote = SentenceQuotes(WordsEmbedder()).find(question, [passage])[0]
    assert quote.text.startswith("Cash generated by operating activities;")
    assert quote.table_row  # the prompt holds a row first alone (rag/answer.py)
    prose_quote = SentenceQuotes(WordsEmbedder()).find("When do we meet?", [prose])[0]
    assert not prose_quote.table_row
    assert "Accounts payable" not in quote.text  # one row, not the lines around it


def test_a_neighbour_on_another_subject_is_not_quoted():
    passage = (
        "Office hours are nine to five. The canteen serves lunch from noon until two. "
        "Coffee is free."
    )
    quote = SentenceQuotes(WordsEmbedder()).find("When does the canteen serve lunch?", [passage])[0]
    assert quote.text == "The canteen serves lunch from noon until two."


def test_a_long_sentence_is_quoted_around_the_question_words():
    # 75 words: what the question asks about is in the last 15, past the first 60.
    filler = " ".join(f"filler{i}" for i in range(60))
    passage = f"The council met in spring, {filler}, and the new treasurer chosen was Mira Holt."
    question = "Who was chosen as the new treasurer?"
    quote = SentenceQuotes(WordsEmbedder()).find(question, [passage])[0]
    assert quote.text.endswith("the new treasurer chosen was Mira Holt.")
    assert len(quote.text.split()) == MAX_WORDS
    text, _, _ = collapsed(passage)
    assert text[quote.start : quote.end] == quote.text


def test_a_table_row_cut_off_by_the_chunk_s_end_is_still_a_row():
    # The chunker cuts by tokens: a row may end in ";" or in a header without its value.
    for passage in (
        "Net sales; Three Months Ended June 25, 2022: 82,959; Three Months Ended 2021: 81,434;",
        "Net sales; Three Months Ended June 25, 2022: 82,959; Three Months Ended 2021: 81,434; "
        "Nine Months Ended",
    ):
        assert [u.table_row for u in units(passage)] == [True]
