"""Serving original files: who may, how the browser must treat them, and short-lived links.

Originals hold the raw personal data the index never stores, so `api.originals` says who may
download them (readers who may see the document, admins, or nobody). Only inert types are shown
in the browser (a PDF opens at #page=N); anything else (HTML, SVG, XML, Word, unknown) is an
attachment, never rendered in the service's origin, and every answer carries
`X-Content-Type-Options: nosniff` so no browser guesses a type.

The chat page cannot put an API key on a link, so it asks for a file link: the document's
`/file` URL with a ticket, an HMAC over (key, document, expiry) under a key derived from the
service's secret, valid for `TICKET_TTL_S`. The ticket's key is checked again when it is used.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from fastapi import HTTPException

from rag.access import Caller

TICKET_TTL_S = 60
_KDF_INFO = b"rag originals: file link tickets, v1"

# Shown in the browser: types that run nothing. PDF.js / the browser's viewer renders PDFs
# outside the page's script context; text is text.
INLINE_TYPES = {
    "pdf": "application/pdf",
    "txt": "text/plain; charset=utf-8",
    "text": "text/plain; charset=utf-8",
    "md": "text/plain; charset=utf-8",
    "markdown": "text/plain; charset=utf-8",
}
ATTACHMENT_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
COMMON_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "private, no-store",
}
# Text shown inline and every attachment: no script, no plugin, an opaque origin if rendered.
# (Not on PDFs: browsers do not run their PDF viewer in a sandboxed document.)
SANDBOX = {"Content-Security-Policy": "sandbox"}


@dataclass(frozen=True)
class Delivery:
    media_type: str
    disposition: str  # inline or attachment
    headers: dict[str, str]

    @property
    def inline(self) -> bool:
        return self.disposition == "inline"


def delivery(file_format: str) -> Delivery:
    """How a file of this format is sent: inline only when inert, else as an attachment."""
    inline_type = INLINE_TYPES.get(file_format)
    if inline_type is not None:
        extra = {} if file_format == "pdf" else SANDBOX
        return Delivery(inline_type, "inline", {**COMMON_HEADERS, **extra})
    media_type = ATTACHMENT_TYPES.get(file_format, "application/octet-stream")
    return Delivery(media_type, "attachment", {**COMMON_HEADERS, **SANDBOX})


def check_allowed(policy: str, caller: Caller) -> None:
    """403 with the setting's name when `api.originals` does not let this caller download."""
    if policy == "nobody":
        raise HTTPException(403, "downloading original files is switched off (api.originals)")
    if policy == "admins" and not caller.is_admin:
        raise HTTPException(403, "original files are available to admins only (api.originals)")


class TicketSigner:
    def __init__(self, secret: bytes) -> None:
        self._key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KDF_INFO).derive(
            secret
        )

    def issue(self, key_id: int, document_id: int, now: float | None = None) -> str:
        expires = int((now if now is not None else time.time()) + TICKET_TTL_S)
        body = f"{key_id}.{document_id}.{expires}"
        return f"{body}.{self._mac(body)}"

    def verify(self, ticket: str, document_id: int) -> int:
        """The key id the ticket was issued to; 401 when forged, expired or for another
        document."""
        invalid = HTTPException(401, "this file link is invalid or has expired; open it again")
        parts = ticket.split(".")
        if len(parts) != 4 or not all(p.isdigit() for p in parts[:3]):
            raise invalid
        body = ".".join(parts[:3])
        if not hmac.compare_digest(parts[3], self._mac(body)):
            raise invalid
        key_id, ticket_document, expires = (int(p) for p in parts[:3])
        if ticket_document != document_id or expires < time.time():
            raise invalid
        return key_id

    def _mac(self, body: str) -> str:
        digest = hmac.new(self._key, body.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")
