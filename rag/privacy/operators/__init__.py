"""What replaces a detected value: one operator per file, chosen per entity type in YAML."""

from __future__ import annotations

from rag.privacy.operators.base import DIGITS_TYPES, Operator
from rag.privacy.operators.keep import KeepOperator
from rag.privacy.operators.mask import MaskOperator
from rag.privacy.operators.pseudonymize import PseudonymizeOperator
from rag.privacy.operators.redact import RedactOperator

__all__ = [
    "DIGITS_TYPES",
    "KeepOperator",
    "MaskOperator",
    "Operator",
    "PseudonymizeOperator",
    "RedactOperator",
    "build_operators",
]


def build_operators(names: list[str], pseudonymizer: PseudonymizeOperator) -> dict[str, Operator]:
    """One instance per operator name (pseudonymize shares the anonymizer's key)."""
    made: dict[str, Operator] = {"pseudonymize": pseudonymizer}
    factories = {"mask": MaskOperator, "redact": RedactOperator, "keep": KeepOperator}
    for name in names:
        if name not in made:
            if name not in factories:
                raise ValueError(f"unknown anonymize operator '{name}'")
            made[name] = factories[name]()
    return made
