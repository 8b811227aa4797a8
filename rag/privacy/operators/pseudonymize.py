"""`pseudonymize`: <TYPE_xxxxxxxxxxxxxxxx>, an HMAC-SHA256 of the normalized value under a
secret key, cut to 64 bits.

The same value gives the same token in every document and in questions, so search still
connects a person across documents, and nobody without the key can reverse or test a guess.
64 bits, because with 32 two of 100,000 people of one type likely share a token, and an
asker's value could then be restored into someone else's passage. Stores built before hold
32-bit tokens (LEGACY_PSEUDONYM_CHARS) until they are re-processed (ingest/reprocess.py).
"""

from __future__ import annotations

import hashlib
import hmac
import re

from rag.privacy.operators.base import DIGITS_TYPES


def normalize(entity_type: str, value: str) -> str:
    if entity_type in DIGITS_TYPES:
        return re.sub(r"[^0-9A-Za-z+]", "", value).upper()
    return " ".join(value.split()).casefold()


# Hex digits of the digest in a token: 16 = 64 bits.
PSEUDONYM_CHARS = 16
LEGACY_PSEUDONYM_CHARS = 8


class PseudonymizeOperator:
    name = "pseudonymize"
    restorable = True

    def __init__(self, secret: bytes, digest_chars: int = PSEUDONYM_CHARS) -> None:
        if not LEGACY_PSEUDONYM_CHARS <= digest_chars <= 64:
            raise ValueError(f"a pseudonym has 8 to 64 hex digits, not {digest_chars}")
        self._secret = secret
        self.digest_chars = digest_chars

    def with_digest_chars(self, digest_chars: int) -> PseudonymizeOperator:
        """The same key, tokens of another length (questions to a store of older tokens)."""
        return PseudonymizeOperator(self._secret, digest_chars)

    @property
    def key_id(self) -> str:
        """Names the key without revealing it: a changed key changes every token."""
        return hmac.new(self._secret, b"pseudonym key id", hashlib.sha256).hexdigest()[:16]

    def operate(self, entity_type: str, value: str) -> str:
        message = f"{entity_type}:{normalize(entity_type, value)}".encode()
        digest = hmac.new(self._secret, message, hashlib.sha256).hexdigest()
        return f"<{entity_type}_{digest[: self.digest_chars]}>"
