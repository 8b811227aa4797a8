"""Phone numbers in common international forms and card numbers of 12-19 digits, through the
configured anonymizer; and the numbers of business text that are neither."""

from __future__ import annotations

import pytest

from rag.config import Settings
from rag.privacy.anonymizer import Anonymizer


@pytest.fixture(scope="module")
def anonymizer() -> Anonymizer:
    return Anonymizer(Settings().anonymize, secret=b"numbers-test")


def _types(anonymizer: Anonymizer, text: str, value: str) -> set[str]:
    start = text.index(value)
    return {
        s.entity_type
        for s in anonymizer.find(text)
        if s.start < start + len(value) and start < s.end
    }


@pytest.mark.parametrize(
    "text",
    [
        "Desk: {} (ask for the duty officer)",
        "They're not answering at {}, try later",
        "Fax {}",
    ],
)
@pytest.mark.parametrize(
    "number",
    [
        "+1-984-182-0190",
        "+447700 921 916",
        "+46 (0)8 928 571 38",
        "+41 (0)96 471 07 95",
        "(37) 788-063",
        "(579)888-3058",
        "01.84.17.61.18",
        "0490 75 40 81",
        "07700 063 966",
        "345-899-3560x4587",
        "001-518-640-0854",
        "9472 7916",
        "467 3395",
        "60-56-85-91",
        "9498777106",
    ],
)
def test_phone_numbers_in_international_forms(anonymizer, text, number):
    assert "PHONE_NUMBER" in _types(anonymizer, text.format(number), number)


@pytest.mark.parametrize(
    "number",
    [
        "060426070011",  # Maestro, 12 digits
        "501864667909",  # Maestro
        "3558331500082481",  # JCB, 16
        "213176828496175",  # JCB, 15
        "180016070420458",  # JCB, 15
        "4131034282458809939",  # Visa, 19
        "4047737215142",  # Visa, 13
        "2720418695252980",  # Mastercard 2-series
        "4131 0342 8245 8809 939",
        "3782-822463-10005",  # Amex as printed
    ],
)
def test_card_numbers_of_12_to_19_digits(anonymizer, number):
    text = f"Paid with {number} yesterday."
    result = anonymizer.anonymize(text)
    assert number not in result.text
    assert result.counts["CREDIT_CARD"] == 1


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Net sales 2022 2021 2020 by segment", "2022 2021"),
        ("Filed on 2022-10-28 12:20:39 with the SEC", "2022-10-28"),
        ("Order 4131034282458809938 shipped", "4131034282458809938"),  # Luhn fails
        ("Revenue was 1 234 567 in the quarter", "1 234 567"),
        ("Shares outstanding: 16,185,181,000 as of October", "16,185,181,000"),
        ("Version 10.0.19045.2965 of the client", "10.0.19045.2965"),
        ("Commission file number 001-36743", "001-36743"),
    ],
)
def test_business_numbers_are_not_phone_or_card_numbers(anonymizer, text, value):
    assert _types(anonymizer, text, value) & {"PHONE_NUMBER", "CREDIT_CARD"} == set()


@pytest.mark.parametrize(
    "text, year",
    [
        ("In 1685, Rev. Elie Prioleau from the town of Pons in France, was among them.", "1685"),
        ("After the Revocation of the Edict of Nantes in 1685, several families came.", "1685"),
        ("he issued the Edict of Fontainebleau (1685), which abolished it", "1685"),
    ],
)
def test_a_year_is_never_a_phone_number(anonymizer, text, year):
    # Presidio's phone recognizer took these for numbers (squad-dev), and a pseudonym in place
    # of a year destroys the answer to every "when" question.
    assert "PHONE_NUMBER" not in _types(anonymizer, text, year)
