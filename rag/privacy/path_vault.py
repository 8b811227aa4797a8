"""Raw file paths, kept only encrypted, and found again by a keyed hash.

A file or folder name is personal data ("Performance review of Jane Doe.pdf"). SQL holds the
anonymized path (what readers see, rag/privacy/path_names.py), the raw path encrypted (to read the
file again, and for an admin acting on a failed file), and an HMAC of the raw path (the scan
looks documents up by it). Both keys are derived from the service secret (the pseudonym key),
each for its own purpose, so none of them is the pseudonym key itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select
from sqlalchemy.orm import Session

from rag.db.models import Document

log = logging.getLogger(__name__)

_SEAL_INFO = b"rag documents: raw file paths, v1"
_HASH_INFO = b"rag documents: file path lookup hash, v1"


def _derive(secret: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret)


class PathVault:
    """seal/open a raw path (Fernet: AES-128-CBC + HMAC-SHA256) and hash it for look-ups."""

    def __init__(self, secret: bytes) -> None:
        self._fernet = Fernet(base64.urlsafe_b64encode(_derive(secret, _SEAL_INFO)))
        self._hash_key = _derive(secret, _HASH_INFO)

    def seal(self, path: str) -> bytes:
        return self._fernet.encrypt(path.encode())

    def open(self, sealed: bytes | None) -> str | None:
        """The raw path, or None when there is none or the secret has changed since."""
        if not sealed:
            return None
        try:
            return self._fernet.decrypt(sealed).decode()
        except InvalidToken:
            log.warning("a document's path could not be decrypted (secret key changed?)")
            return None

    def digest(self, path: str) -> str:
        """The look-up key of a path relative to its source: equal paths, equal digests."""
        return hmac.new(self._hash_key, path.encode(), hashlib.sha256).hexdigest()


def with_raw_paths(session: Session, vault: PathVault, errors: list[dict]) -> list[dict]:
    """A job's per-file errors, each with its file's raw path added (for admins only)."""
    ids = {e["document_id"] for e in errors if e.get("document_id") is not None}
    query = select(Document.id, Document.path_encrypted).where(Document.id.in_(ids))
    sealed = {row.id: row.path_encrypted for row in session.execute(query)} if ids else {}
    return [{**e, "raw_path": vault.open(sealed.get(e.get("document_id")))} for e in errors]
