"""API keys: list, make, revoke, look up the key of a request, and sign in a reverse proxy's
user (for the API and the CLI). Only a key's SHA-256 is stored; its secret is returned once."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from rag.db.models import ApiKey
from rag.db.session import transaction
from rag.keys import (
    DuplicateKeyName,
    create_key,
    find_key,
    hash_key,
    list_keys,
    revoke_key,
    revoke_key_by_id,
)

# Names of the rows proxy users get: the prefix, then an HMAC of the user name.
PROXY_KEY_PREFIX = "proxy:"


class ProxySignInRefused(PermissionError):
    """Sign-in through the proxy is off, or this user's access was revoked; says which."""


class ProxySignInBusy(RuntimeError):
    pass


@dataclass(frozen=True)
class KeyView:
    """A key as its callers see it: never the secret, nor its hash."""

    id: int
    name: str
    prefix: str
    role: str
    groups: list[str]
    revoked: bool
    created_at: datetime


class Keys:
    def __init__(self, session_factory: sessionmaker[Session], secret: Callable[[], bytes]) -> None:
        self._sessions = session_factory
        self._secret = secret  # the service's secret, read only for proxy sign-in

    def list(self) -> list[KeyView]:
        """Every key, revoked ones too, oldest first."""
        with self._sessions() as session:
            return [_view(record) for record in list_keys(session)]

    def create(self, name: str, role: str, groups: list[str]) -> tuple[KeyView, str]:
        """A new key and its secret, shown this once. KeyRequestError (DuplicateKeyName)."""
        try:
            with transaction(self._sessions) as session:
                new = create_key(session, name, role, groups)
                return _view(new.record), new.secret
        except IntegrityError as exc:  # the same name made by a concurrent request
            raise DuplicateKeyName(f"a key named '{name.strip()}' exists already") from exc

    def create_first_admin(self) -> str | None:
        """An admin key's secret when no key exists yet; None when one does."""
        with transaction(self._sessions) as session:
            if session.scalar(select(func.count()).select_from(ApiKey)):
                return None
            return create_key(session, "admin", "admin", []).secret

    def revoke(self, key: int | str) -> KeyView:
        """Revoke by id (int), or by exact name, else listed prefix (str). KeyRequestError."""
        with transaction(self._sessions) as session:
            if isinstance(key, int):
                return _view(revoke_key_by_id(session, key))
            return _view(revoke_key(session, key))

    def find(self, secret: str) -> KeyView | None:
        """The valid, unrevoked key with this secret."""
        with self._sessions() as session:
            record = find_key(session, secret)
            return _view(record) if record is not None else None

    def active(self, key_id: int) -> KeyView | None:
        """The key with this id, unless it is missing or revoked."""
        with self._sessions() as session:
            record = session.get(ApiKey, key_id)
            return _view(record) if record is not None and not record.revoked else None

    def sign_in_by_proxy(self, user: str, template_name: str) -> KeyView:
        """The proxy user's own key row, kept in step with the role and groups of the key
        named `template_name`. The row's name is an HMAC of the user name (SQL holds no user
        name) and its hash a random one, so it cannot be used as a key."""
        digest = hmac.new(self._secret(), user.encode(), hashlib.sha256).hexdigest()[:32]
        name = PROXY_KEY_PREFIX + digest
        for _ in range(2):  # a second try when a parallel first request made the row meanwhile
            try:
                with transaction(self._sessions) as session:
                    return _view(_proxy_row(session, name, template_name))
            except IntegrityError:
                continue
        raise ProxySignInBusy("could not sign in through the proxy; try again")


def _proxy_row(session: Session, name: str, template_name: str) -> ApiKey:
    template = session.scalar(select(ApiKey).where(ApiKey.name == template_name))
    if template is None or template.revoked:
        raise ProxySignInRefused(
            f"sign-in through the proxy is off: the API key '{template_name}' "
            "that proxy users act as is missing or revoked"
        )
    row = session.scalar(select(ApiKey).where(ApiKey.name == name))
    if row is None:
        row = ApiKey(name=name, prefix="proxy", key_hash=hash_key(secrets.token_hex()))
        session.add(row)
    if row.revoked:
        raise ProxySignInRefused("this user's access has been revoked")
    row.role, row.groups = template.role, list(template.groups)
    session.flush()
    return row


def _view(record: ApiKey) -> KeyView:
    return KeyView(
        id=record.id,
        name=record.name,
        prefix=record.prefix,
        role=record.role,
        groups=list(record.groups or []),
        revoked=record.revoked,
        created_at=record.created_at,
    )
