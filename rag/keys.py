"""API keys: random secrets shown once; SQL keeps only their SHA-256."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from rag.db.models import ApiKey

KEY_PREFIX = "rag_"
ROLES = ("reader", "admin")
MAX_NAME_CHARS = 200
MAX_GROUP_CHARS = 100


@dataclass(frozen=True)
class NewKey:
    record: ApiKey
    secret: str  # shown once, never stored


def hash_key(secret: str) -> str:
    # Keys are 256-bit random values, so a plain hash is enough: there is nothing to brute-force.
    return hashlib.sha256(secret.encode()).hexdigest()


class KeyRequestError(ValueError):
    """A key request that cannot be carried out; the message says why."""


class DuplicateKeyName(KeyRequestError):
    pass


class KeyNotFound(KeyRequestError):
    pass


def validate_groups(groups: list[str]) -> list[str]:
    """Groups trimmed, deduplicated, in order; empty names and commas are refused."""
    cleaned: list[str] = []
    for group in groups:
        name = group.strip()
        if not name or "," in name or len(name) > MAX_GROUP_CHARS:
            raise KeyRequestError(
                f"a group name must be 1 to {MAX_GROUP_CHARS} characters without commas"
            )
        if name not in cleaned:
            cleaned.append(name)
    return cleaned


def create_key(session: Session, name: str, role: str, groups: list[str]) -> NewKey:
    if role not in ROLES:
        raise KeyRequestError(f"role must be one of {', '.join(ROLES)}, not '{role}'")
    name = name.strip()
    if not name or len(name) > MAX_NAME_CHARS:
        raise KeyRequestError(f"a key name must be 1 to {MAX_NAME_CHARS} characters")
    if session.scalar(select(ApiKey.id).where(ApiKey.name == name)) is not None:
        raise DuplicateKeyName(f"a key named '{name}' exists already")
    groups = validate_groups(groups)
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    record = ApiKey(
        name=name, prefix=secret[:12], key_hash=hash_key(secret), role=role, groups=groups
    )
    session.add(record)
    session.flush()
    return NewKey(record, secret)


def find_key(session: Session, secret: str) -> ApiKey | None:
    record = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(secret)))
    if record is None or record.revoked:
        return None
    return record


def list_keys(session: Session) -> list[ApiKey]:
    """Every key, revoked ones too, oldest first (records hold hashes, never secrets)."""
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))


def revoke_key(session: Session, name_or_prefix: str) -> ApiKey:
    """Revoke the key with this exact name, else with this exact prefix (as listed)."""
    record = session.scalar(select(ApiKey).where(ApiKey.name == name_or_prefix))
    if record is None:
        matches = list(session.scalars(select(ApiKey).where(ApiKey.prefix == name_or_prefix)))
        if len(matches) > 1:
            raise KeyRequestError(f"several keys have the prefix '{name_or_prefix}': use the name")
        record = matches[0] if matches else None
    if record is None:
        raise KeyNotFound(f"no key named or prefixed '{name_or_prefix}'")
    record.revoked = True
    session.flush()
    return record


def revoke_key_by_id(session: Session, key_id: int) -> ApiKey:
    record = session.get(ApiKey, key_id)
    if record is None:
        raise KeyNotFound(f"no key with id {key_id}")
    record.revoked = True
    session.flush()
    return record
