"""`redact`: the value becomes its bare type, <TYPE>; nothing about it is kept."""

from __future__ import annotations


class RedactOperator:
    name = "redact"
    restorable = False

    def operate(self, entity_type: str, value: str) -> str:
        return f"<{entity_type}>"
