"""Payment card numbers of 12 to 19 digits that pass the Luhn check.

Presidio's recognizer knows the common 13-16 digit cards by their first digits; Maestro (12-19
digits, some starting with 0), JCB and 19-digit Visa numbers got through. Here any 12-19 digit
number, bare or written in groups of four (or 4-6-4/5 as Amex and Diners are printed), is a
card number when its Luhn check digit is right: one random number in ten passes, so a few
other long numbers are hidden too, which errs on the safe side.
"""

from __future__ import annotations

import regex
from presidio_analyzer import Pattern, PatternRecognizer

CARD_NUMBER = (
    r"(?<![\w.,-])(?:\d{12,19}|\d{4}(?:[ -]\d{4}){2,3}(?:[ -]\d{1,4})?|\d{4}[ -]\d{6}[ -]\d{4,5})"
    r"(?![\w-]|[.,]\d)"
)


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        n = int(char) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


class CardNumberRecognizer(PatternRecognizer):
    def __init__(self, score: float = 0.5) -> None:
        super().__init__(
            supported_entity="CREDIT_CARD",
            name="CardNumberRecognizer",
            patterns=[Pattern("card_number_12_19", CARD_NUMBER, score)],
            context=["card", "credit", "debit", "visa", "mastercard", "maestro", "amex", "jcb"],
            global_regex_flags=regex.M,
        )

    def validate_result(self, pattern_text: str) -> bool:
        digits = "".join(c for c in pattern_text if c.isdigit())
        return 12 <= len(digits) <= 19 and len(set(digits)) > 1 and luhn_valid(digits)
