"""`pseudonymize`: <TYPE_xxxxxxxx>, an HMAC-SHA256 of the normalized value under a secret key.

The same value gives the same token in every document and in questions, so search still
connects a person across documents, and nobody without the key can reverse or test a guess.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from ingest.operators.base import DIGITS_TYPES


def normalize(entity_type: str, value: str) -> str:
    if entity_type in DIGITS_TYPES:
        return re.sub(r"[^0-9A-Za-z+]", "", value).upper()
    return " ".join(value.split()).casefold()


class PseudonymizeOperator:
    name = "pseudonymize"
    restorable = True

    def __init__(self, secret: bytes, digest_chars: int = 8) -> None:
        self._secret = secret
        self._digest_chars = digest_chars

    def operate(self, entity_type: str, value: str) -> str:
        message = f"{entity_type}:{normalize(entity_type, value)}".encode()
        digest = hmac.new(self._secret, message, hashlib.sha256).hexdigest()
        return f"<{entity_type}_{digest[: self._digest_chars]}>"
