"""`keep`: the value stays as written (detected and counted, not replaced)."""

from __future__ import annotations


class KeepOperator:
    name = "keep"
    restorable = False

    def operate(self, entity_type: str, value: str) -> str:
        return value
