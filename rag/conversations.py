"""Chat-page conversations kept in SQL, per API key.

SQL holds only pseudonymized text. The asker's own values (the originals behind the pseudonyms
of their question) are needed to show the conversation back to them, so each message keeps them
encrypted with a key derived from the service's pseudonym secret; nobody reading the database
alone can recover them.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from rag.access import Caller
from rag.conversation_access import WITHHELD, withheld
from rag.db.models import Conversation, Message
from rag.db.session import transaction
from rag.privacy.pseudonyms import asker_values, restore_pseudonyms

log = logging.getLogger(__name__)

TITLE_CHARS = 80
# Earlier messages handed to the service with a follow-up; it trims them to the context budget.
HISTORY_MESSAGES = 6
_KDF_INFO = b"rag conversations: originals of the asker's pseudonyms, v1"


class ConversationNotFound(LookupError):
    pass


class OriginalsCipher:
    """Encrypts a {pseudonym: original value} mapping (Fernet: AES-128-CBC + HMAC-SHA256)."""

    def __init__(self, secret: bytes) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KDF_INFO).derive(secret)
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def encrypt(self, originals: dict[str, str]) -> bytes | None:
        if not originals:
            return None
        return self._fernet.encrypt(json.dumps(originals).encode())

    def decrypt(self, blob: bytes | None) -> dict[str, str]:
        if not blob:
            return {}
        try:
            return json.loads(self._fernet.decrypt(blob))
        except InvalidToken:
            # The secret changed: the pseudonyms stay, the values are gone. Never log values.
            log.warning("a message's originals could not be decrypted (secret key changed?)")
            return {}


def conceal(text: str, originals: dict[str, str]) -> str:
    """The inverse of restore_pseudonyms: the asker's values back to their pseudonyms, longest
    first so a value inside a longer one is not cut out of it."""
    for token, value in sorted(originals.items(), key=lambda item: -len(item[1])):
        if value:
            text = text.replace(value, token)
    return text


@dataclass
class MessageView:
    id: int
    role: str
    content: str
    citations: list[dict[str, Any]]
    found: bool
    created_at: datetime


@dataclass
class ConversationView:
    id: int
    title: str
    created_at: datetime
    updated_at: datetime
    messages: list[MessageView] = field(default_factory=list)


@dataclass
class History:
    """Earlier turns as the LLM should see them (pseudonymized), and the asker's values."""

    messages: list[dict[str, str]]
    # Every value the asker typed in the conversation (to conceal them in a stored answer).
    originals: dict[str, str]
    # The same, per question, newest first (what an answer may restore: rag.answer).
    turn_values: list[dict[str, str]] = field(default_factory=list)


class ConversationStore:
    """`max_restored`: how many of the asker's values a stored message shows as themselves,
    as its answer did (anonymize.max_restored_values)."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        cipher: OriginalsCipher,
        max_restored: int = 10,
    ) -> None:
        self.session_factory = session_factory
        self.cipher = cipher
        self.max_restored = max_restored

    def list(self, key_id: int, limit: int = 100) -> list[ConversationView]:
        with self.session_factory() as session:
            rows = session.scalars(
                select(Conversation)
                .where(Conversation.api_key_id == key_id)
                .order_by(Conversation.updated_at.desc(), Conversation.id.desc())
                .limit(limit)
            ).all()
            return [self._view(session, row, with_messages=False) for row in rows]

    def create(
        self, key_id: int, title: str = "", title_originals: dict[str, str] | None = None
    ) -> ConversationView:
        """`title` pseudonymized, with the asker's values behind it (kept encrypted)."""
        with transaction(self.session_factory) as session:
            row = Conversation(api_key_id=key_id, title=_title(title) if title else "")
            row.title_originals_encrypted = self.cipher.encrypt(
                _used_in(row.title, title_originals or {})
            )
            session.add(row)
            session.flush()
            return self._view(session, row, with_messages=False)

    def get(
        self, key_id: int, conversation_id: int, caller: Caller | None = None
    ) -> ConversationView:
        """With `caller`, answers citing documents it may no longer see are withheld."""
        with self.session_factory() as session:
            return self._view(session, self._owned(session, key_id, conversation_id), caller=caller)

    def delete(self, key_id: int, conversation_id: int) -> None:
        with transaction(self.session_factory) as session:
            row = self._owned(session, key_id, conversation_id)
            session.execute(delete(Message).where(Message.conversation_id == row.id))
            session.delete(row)

    def history(self, key_id: int, conversation_id: int, caller: Caller | None = None) -> History:
        with self.session_factory() as session:
            self._owned(session, key_id, conversation_id)
            rows = session.scalars(
                select(Message)
                .where(Message.conversation_id == conversation_id)
                .order_by(Message.id.desc())
                .limit(HISTORY_MESSAGES)
            ).all()
            rows = list(reversed(rows))
            turn_values = self._turn_values(session, conversation_id)
            hidden = withheld(session, caller, rows) if caller else set()
            return History(
                messages=[
                    {"role": m.role, "content": WITHHELD if i in hidden else m.content}
                    for i, m in enumerate(rows)
                ],
                originals=_merge(reversed(turn_values)),
                turn_values=turn_values,
            )

    def add_question(
        self, key_id: int, conversation_id: int, pseudonymized: str, originals: dict[str, str]
    ) -> int:
        """Store the asker's turn before answering, so a failed answer still shows it."""
        with transaction(self.session_factory) as session:
            row = self._owned(session, key_id, conversation_id)
            if not row.title:
                row.title = _title(pseudonymized)
                row.title_originals_encrypted = self.cipher.encrypt(_used_in(row.title, originals))
            message = Message(
                conversation_id=row.id,
                role="user",
                content=pseudonymized,
                originals_encrypted=self.cipher.encrypt(originals),
                citations=[],
                found=True,
            )
            session.add(message)
            row.updated_at = datetime.now(UTC)
            session.flush()
            return message.id

    def add_answer(
        self,
        key_id: int,
        conversation_id: int,
        answer: str,
        citations: list[dict[str, Any]],
        found: bool,
        originals: dict[str, str],
    ) -> int:
        """Store the answer as shown to the asker, with their values turned back into pseudonyms
        (the values themselves are kept, encrypted, with their question)."""
        concealed = [{**c, "snippet": conceal(c["snippet"], originals)} for c in citations]
        with transaction(self.session_factory) as session:
            row = self._owned(session, key_id, conversation_id)
            message = Message(
                conversation_id=row.id,
                role="assistant",
                content=conceal(answer, originals),
                citations=concealed,
                found=found,
            )
            session.add(message)
            row.updated_at = datetime.now(UTC)
            session.flush()
            return message.id

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _owned(session: Session, key_id: int, conversation_id: int) -> Conversation:
        row = session.get(Conversation, conversation_id)
        # Someone else's conversation is "not found", so ids cannot be probed.
        if row is None or row.api_key_id != key_id:
            raise ConversationNotFound(f"conversation {conversation_id} not found")
        return row

    def _turn_values(self, session: Session, conversation_id: int) -> list[dict[str, str]]:
        """The asker's values of each question, newest first."""
        blobs = session.scalars(
            select(Message.originals_encrypted)
            .where(
                Message.conversation_id == conversation_id,
                Message.originals_encrypted.is_not(None),
            )
            .order_by(Message.id.desc())
        )
        return [self.cipher.decrypt(blob) for blob in blobs]

    def _view(
        self,
        session: Session,
        row: Conversation,
        with_messages: bool = True,
        caller: Caller | None = None,
    ) -> ConversationView:
        title_values = self.cipher.decrypt(row.title_originals_encrypted)
        if row.title and row.title_originals_encrypted is None:
            # Titled before title values were kept: the title is the first question's.
            first = session.scalar(
                select(Message.originals_encrypted)
                .where(Message.conversation_id == row.id, Message.role == "user")
                .order_by(Message.id)
                .limit(1)
            )
            title_values = _used_in(row.title, self.cipher.decrypt(first))
        view = ConversationView(
            id=row.id,
            title=restore_pseudonyms(row.title, title_values),
            created_at=row.created_at,
            updated_at=row.updated_at,
        )
        if with_messages:
            messages = session.scalars(
                select(Message).where(Message.conversation_id == row.id).order_by(Message.id)
            ).all()
            # A question shows the values typed in it; an answer what it showed when given:
            # the values of the questions so far, newest first, capped.
            typed: list[dict[str, str]] = []
            for message in messages:
                if message.role == "user":
                    typed.insert(0, self.cipher.decrypt(message.originals_encrypted))
                    shown = typed[0]
                else:
                    shown = asker_values(typed, self.max_restored)
                view.messages.append(_message_view(message, shown))
            for i in withheld(session, caller, messages) if caller else ():
                view.messages[i].content, view.messages[i].citations = WITHHELD, []
        return view


def _merge(mappings: Iterable[dict[str, str]]) -> dict[str, str]:
    merged: dict[str, str] = {}
    for mapping in mappings:
        merged.update(mapping)
    return merged


def _used_in(text: str, originals: dict[str, str]) -> dict[str, str]:
    return {token: value for token, value in originals.items() if token in text}


def _message_view(message: Message, originals: dict[str, str]) -> MessageView:
    return MessageView(
        id=message.id,
        role=message.role,
        content=restore_pseudonyms(message.content, originals),
        citations=[
            {**c, "snippet": restore_pseudonyms(c.get("snippet", ""), originals)}
            for c in message.citations or []
        ],
        found=message.found,
        created_at=message.created_at,
    )


def _title(question: str) -> str:
    title = " ".join(question.split())
    if len(title) <= TITLE_CHARS:
        return title
    cut = title.rfind(" ", 0, TITLE_CHARS - 1)
    return title[: cut if cut > 0 else TITLE_CHARS - 1] + "…"
