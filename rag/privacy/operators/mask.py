"""`mask`: number types keep their last `keep_last` letters/digits, the rest become `char`
(separators stay: "4111 1111 1111 1111" -> "**** **** **** 1111"); every other type becomes
`char` throughout, spaces kept ("Jane Doe" -> "**** ***")."""

from __future__ import annotations

from rag.privacy.operators.base import DIGITS_TYPES


class MaskOperator:
    name = "mask"
    restorable = False

    def __init__(
        self, char: str = "*", keep_last: int = 4, digits_types: frozenset[str] = DIGITS_TYPES
    ) -> None:
        self.char = char
        self.keep_last = keep_last
        self.digits_types = digits_types

    def operate(self, entity_type: str, value: str) -> str:
        if entity_type not in self.digits_types:
            return "".join(c if c.isspace() else self.char for c in value)
        keep_from = len(value)
        seen = 0
        for i in range(len(value) - 1, -1, -1):
            if seen == self.keep_last:
                break
            if value[i].isalnum():
                seen += 1
                keep_from = i
        # Never show a short value whole: keep at most half of its letters/digits.
        total = sum(c.isalnum() for c in value)
        if total <= self.keep_last * 2:
            keep_from = len(value)
        return "".join(
            self.char if c.isalnum() and i < keep_from else c for i, c in enumerate(value)
        )
