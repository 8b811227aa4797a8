"""The grounding check on hand-written passages (issue 18)."""

from __future__ import annotations

import pytest

from rag.grounding import check_answer

LEAVE = (
    "Annual leave\n\nFull-time employees receive 27 days of paid annual leave per calendar "
    "year. The gym subsidy is 40 euros per month. The policy took effect on 1 March 2023 "
    "and was signed by <PERSON_0a1b2c3d4e5f6a7b>."
)
TABLE = (
    "Travel costs\n| Item | 2023 | 2024 |\n| Hotel | 12,500 | 14,000 |\n| Meals | 3,200 | 3,900 |\n"
)


def _one(answer: str, *passages: str):
    checks = check_answer(answer, list(passages) or [LEAVE])
    assert len(checks) == 1
    return checks[0]


def test_a_number_in_the_passage_with_what_it_measures_is_grounded():
    check = _one("Employees get 27 days of annual leave [1].")
    assert check.grounded, check.reason


def test_a_number_that_is_not_in_the_passage_is_not():
    check = _one("Employees get 20 days of annual leave [1].")
    assert not check.grounded
    assert "20" in check.reason and "not in the sources" in check.reason


def test_a_number_from_another_sentence_is_not_support():
    # 40 is in the passage, but it is the gym subsidy, not the leave.
    check = _one("Employees get 40 days of annual leave.")
    assert not check.grounded
    assert "40" in check.reason and "but not with" in check.reason


def test_a_date_in_the_passage_is_grounded_and_another_is_not():
    assert _one("The policy took effect on 1 March 2023.").grounded
    assert _one("The policy took effect on March 1, 2023.").grounded
    wrong = _one("The policy took effect on 1 May 2023.")
    assert not wrong.grounded and "1 May 2023" in wrong.reason


def test_a_name_given_as_its_pseudonym():
    assert _one("It was signed by <PERSON_0a1b2c3d4e5f6a7b> [1].").grounded
    other = _one("It was signed by <PERSON_ffffffffffffffff>.")
    assert not other.grounded and "<PERSON_ffffffffffffffff>" in other.reason


def test_a_name_that_is_not_in_the_passages():
    check = _one("The policy was signed by Maria Lopez.")
    assert not check.grounded and "Maria Lopez" in check.reason


def test_a_restored_name_meets_its_restored_passage():
    # The service restores the asker's values in answer and passages alike.
    passage = LEAVE.replace("<PERSON_0a1b2c3d4e5f6a7b>", "Anna Berg")
    assert _one("The policy was signed by Anna Berg.", passage).grounded


def test_a_table_row_and_its_column():
    assert _one("Hotel costs were 14,000 in 2024.", TABLE).grounded
    assert _one("Meals cost 3,200.", TABLE).grounded


def test_a_figure_of_another_row_is_not_support():
    check = _one("Meals cost 12,500.", TABLE)
    assert not check.grounded and "12500" not in check.reason and "12,500" in check.reason


def test_a_figure_of_another_period_is_not_support():
    check = _one("Hotel costs were 12,500 in 2024.", TABLE)
    assert not check.grounded and "but not with" in check.reason


@pytest.mark.parametrize("answer", ["Leave is paid.", "I could not find this in the documents."])
def test_a_sentence_without_facts_is_grounded_with_its_reason(answer):
    check = _one(answer)
    assert check.grounded and check.reason == "states no figure, date or name to check"


def test_each_sentence_is_checked_on_its_own():
    checks = check_answer(
        "Employees get 27 days of annual leave [1]. The gym subsidy is 50 euros [1].", [LEAVE]
    )
    assert [c.grounded for c in checks] == [True, False]
    assert checks[0].text == "Employees get 27 days of annual leave [1]."


def test_citation_marks_are_not_figures():
    assert _one("Leave is paid [3].").grounded


NORMANS = (
    "Richard I ruled the duchy of Normandy from 1002 until his death. "
    "William of Jumieges wrote a history of the Normans in 1070. "
    "Richard planned to invade England. A storm destroyed his fleet."
)


def _asked(answer: str, question: str, quotes: tuple[str, ...] = ()):
    checks = check_answer(answer, [NORMANS], question, quotes)
    assert len(checks) == 1
    return checks[0]


def test_a_name_from_a_sentence_about_something_else_is_not_support():
    # Every name is in the passage, but the sentence that holds it is not on the question.
    question = "Who ruled the duchy of Normandy?"
    wrong = "William of Jumieges ruled the duchy of Normandy."
    assert check_answer(wrong, [NORMANS])[0].grounded  # without the question: names only
    check = _asked(wrong, question)
    assert not check.grounded and "Jumieges" in check.reason
    assert _asked("Richard I ruled the duchy of Normandy.", question).grounded


def test_a_figure_from_a_sentence_about_something_else_is_not_support():
    question = "When did Richard I start to rule the duchy of Normandy?"
    assert _asked("He ruled it from 1002.", question).grounded
    assert not _asked("He ruled it from 1070.", question).grounded


def test_a_place_from_a_sentence_about_something_else_is_not_support():
    # "England" is in the passage, where Richard planned to invade it; "Normandy" comes from
    # the question and needs no support.
    check = _asked("Normandy is in England.", "In what country is Normandy?")
    assert not check.grounded and "England" in check.reason


def test_a_quoted_sentence_is_on_the_question_even_in_other_words():
    question = "What ruined Richard's plans?"
    answer = "A storm destroyed his fleet."
    assert not _asked(answer, question).grounded  # no question word in that sentence
    assert _asked(answer, question, ("A storm destroyed his fleet.",)).grounded


def test_an_answer_without_the_kind_the_question_asks_for_is_marked():
    check = _asked("Richard ruled the duchy.", "How many years did Richard rule?")
    assert not check.grounded and "states no number" in check.reason


def test_an_answer_that_found_nothing_is_not_marked():
    answer = "I could not find this in the documents."
    assert _asked(answer, "How many ships did Richard lose?").grounded


def _answer(replace_unsupported: bool):
    from rag.answer import Answer
    from rag.quotes import Quote

    quote = Quote(1, "Full-time employees receive 27 days of paid annual leave.", 14, 71, 0.9)
    return Answer(
        citations=[],
        found=True,
        tokens=iter(()),
        passages=[LEAVE],
        quotes=[quote],
        replace_unsupported=replace_unsupported,
    )


@pytest.mark.parametrize("replace_unsupported", [False, True])
def test_an_unsupported_answer_is_marked_or_replaced_by_its_quotes(replace_unsupported):
    wrong = "Employees get 20 days of leave [1]."
    shown, sentences = _answer(replace_unsupported).checked(wrong)
    assert [s.grounded for s in sentences] == [False]
    if replace_unsupported:
        assert shown == "“Full-time employees receive 27 days of paid annual leave.” [1]"
    else:
        assert shown == wrong


def test_a_supported_answer_is_never_replaced():
    right = "Employees get 27 days of leave [1]."
    assert _answer(True).checked(right) == (right, check_answer(right, [LEAVE]))
