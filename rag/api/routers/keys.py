"""/v1/keys: list, make and revoke API keys (admin keys only). A new key is returned once, in
the POST response; only its SHA-256 is stored."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException
from fastapi import Path as PathParam
from pydantic import BaseModel, Field

from rag.api.deps import AdminCallerDep, ServiceDep
from rag.api.errors import ERROR_RESPONSES, ErrorOut
from rag.keys import (
    MAX_GROUP_CHARS,
    MAX_NAME_CHARS,
    DuplicateKeyName,
    KeyNotFound,
    KeyRequestError,
)
from rag.use_cases.keys import KeyView

router = APIRouter(prefix="/v1/keys", tags=["keys"])
# Ids are 32-bit integers in SQL: a larger one is a 422, not a database error.
KeyId = Annotated[int, PathParam(ge=1, le=2**31 - 1, description="The key's id.")]


class KeyCreate(BaseModel):
    name: str = Field(
        min_length=1, max_length=MAX_NAME_CHARS, description="Who or what uses the key."
    )
    role: Literal["reader", "admin"] = Field(
        default="reader",
        description="reader: query, search, read the documents its groups allow; admin: all.",
    )
    groups: list[str] = Field(
        default_factory=list,
        max_length=100,
        description=f"Access groups (each 1 to {MAX_GROUP_CHARS} characters, no commas). "
        "A reader sees documents without groups and those sharing one of these.",
    )


class KeyOut(BaseModel):
    id: int
    name: str
    prefix: str = Field(description="The key's first characters, to recognize it.")
    role: str
    groups: list[str]
    revoked: bool
    created_at: datetime


class KeyCreated(KeyOut):
    key: str = Field(description="The key itself. Shown this once; only its hash is kept.")


def _out(record: KeyView) -> KeyOut:
    return KeyOut(
        id=record.id,
        name=record.name,
        prefix=record.prefix,
        role=record.role,
        groups=list(record.groups),
        revoked=record.revoked,
        created_at=record.created_at,
    )


@router.get("", response_model=list[KeyOut], summary="List keys", responses=ERROR_RESPONSES)
def list_api_keys(service: ServiceDep, _admin: AdminCallerDep) -> list[KeyOut]:
    """Every key, revoked ones too, oldest first. Never the keys themselves."""
    return [_out(record) for record in service.keys.list()]


@router.post(
    "",
    response_model=KeyCreated,
    status_code=201,
    summary="Make a key",
    responses={**ERROR_RESPONSES, 409: {"model": ErrorOut, "description": "name taken"}},
)
def create_api_key(body: KeyCreate, service: ServiceDep, _admin: AdminCallerDep) -> KeyCreated:
    """Make a key with a role and access groups; the response holds the key, once."""
    try:
        record, secret = service.keys.create(body.name, body.role, body.groups)
    except DuplicateKeyName as exc:  # a concurrent request's too
        raise HTTPException(409, str(exc)) from exc
    except KeyRequestError as exc:
        raise HTTPException(422, str(exc)) from exc
    return KeyCreated(**_out(record).model_dump(), key=secret)


@router.delete(
    "/{key_id}",
    response_model=KeyOut,
    summary="Revoke a key",
    responses={**ERROR_RESPONSES, 404: {"model": ErrorOut, "description": "no such key"}},
)
def revoke_api_key(key_id: KeyId, service: ServiceDep, _admin: AdminCallerDep) -> KeyOut:
    """Revoke a key: requests with it get 401 from then on. The record stays, marked revoked."""
    try:
        return _out(service.keys.revoke(key_id))
    except KeyNotFound as exc:
        raise HTTPException(404, str(exc)) from exc
