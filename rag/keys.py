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


@dataclass(frozen=True)
class NewKey:
    record: ApiKey
    secret: str  # shown once, never stored


def hash_key(secret: str) -> str:
    # Keys are 256-bit random values, so a plain hash is enough: there is nothing to brute-force.
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(session: Session, name: str, role: str, groups: list[str]) -> NewKey:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not '{role}'")
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
