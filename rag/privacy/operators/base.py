"""The operator protocol: (entity type, value as written) -> the text stored instead."""

from __future__ import annotations

from typing import Protocol

# Types whose value is a number: normalized to digits for pseudonyms, masked to the last 4.
DIGITS_TYPES = frozenset(
    {"PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "IBAN_CODE", "US_BANK_NUMBER", "EMPLOYEE_ID"}
)


class Operator(Protocol):
    name: str
    # True when the replacement maps back to one value (used to restore the asker's own values).
    restorable: bool

    def operate(self, entity_type: str, value: str) -> str: ...
