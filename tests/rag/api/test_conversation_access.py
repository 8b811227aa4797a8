"""Stored conversations against today's access: answers citing a document later moved to other
groups or deleted are withheld when read and when handed back as context, and deleting a
document purges its snippets from SQL. Real database (SQLite and PostgreSQL), real models."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from rag.access import Caller
from rag.api.main import create_app
from rag.conversation_access import WITHHELD
from rag.db.models import ApiKey, Document, Message
from rag.db.session import transaction
from rag.keys import create_key

SECRET_SNIPPET = "The merger with Contoso closes on 3 March under codename SILVERLYNX."


@pytest.fixture
def service(make_service, tmp_path):
    service = make_service()
    for name, groups in [("staff", ["staff"]), ("open", [])]:
        folder = tmp_path / name
        folder.mkdir()
        (folder / f"{name}.txt").write_text(f"{name} notes\n\nThe canteen opens at noon.\n")
        assert service.pipeline.ingest_folder(folder, groups).indexed == 1
    return service


@pytest.fixture
def env(service):
    with transaction(service.session_factory) as session:
        reader = create_key(session, "reader", "reader", ["staff"])
        admin = create_key(session, "admin", "admin", [])
    with TestClient(create_app(service.settings, service, run_worker=False)) as client:
        client.headers["Authorization"] = f"Bearer {reader.secret}"
        conversation_id = client.post("/v1/conversations").json()["id"]
        store = service.conversations
        with service.session_factory() as session:
            docs = {d.path: d.id for d in session.scalars(select(Document))}
            key_id = session.scalar(select(ApiKey.id).where(ApiKey.name == "reader"))
        cite = [_citation(1, docs["staff.txt"], SECRET_SNIPPET)]
        store.add_question(key_id, conversation_id, "When does the merger close?", {})
        store.add_answer(key_id, conversation_id, "On 3 March [1].", cite, True, {})
        store.add_question(key_id, conversation_id, "When does the canteen open?", {})
        store.add_answer(
            key_id, conversation_id, "At noon [1].",
            [_citation(1, docs["open.txt"], "The canteen opens at noon.")], True, {},
        )  # fmt: skip
        yield (
            client,
            store,
            conversation_id,
            docs,
            key_id,
            {"Authorization": f"Bearer {admin.secret}"},
        )


def _citation(n: int, document_id: int, snippet: str) -> dict:
    return {"n": n, "document_id": document_id, "title": "Notes", "path": "notes.txt",
            "page": 1, "snippet": snippet, "score": 0.9}  # fmt: skip


def _answers(client, conversation_id, headers=None) -> list[dict]:
    response = client.get(f"/v1/conversations/{conversation_id}", headers=headers)
    assert response.status_code == 200, response.text
    return [m for m in response.json()["messages"] if m["role"] == "assistant"]


def test_an_answer_citing_a_document_moved_to_other_groups_is_withheld(env, service):
    client, store, conversation_id, docs, key_id, admin = env
    assert SECRET_SNIPPET in json.dumps(_answers(client, conversation_id))

    moved = client.patch(
        f"/v1/documents/{docs['staff.txt']}", json={"groups": ["board"]}, headers=admin
    )
    assert moved.status_code == 200

    response = client.get(f"/v1/conversations/{conversation_id}")
    assert "SILVERLYNX" not in response.text and "3 March" not in response.text
    first, second = _answers(client, conversation_id)
    assert (first["content"], first["citations"]) == (WITHHELD, [])
    assert second["content"] == "At noon [1]." and second["citations"][0]["snippet"]
    # Nor does a follow-up hand the hidden answer to the LLM as context.
    with service.session_factory() as session:
        caller = Caller.from_key(session.get(ApiKey, key_id))
    history = store.history(key_id, conversation_id, caller)
    assert "3 March" not in json.dumps(history.messages)
    assert "At noon [1]." in json.dumps(history.messages)


def test_deleting_a_document_purges_its_snippets_from_stored_answers(env, service):
    client, _, conversation_id, docs, _, _ = env

    service.pipeline.remove_document(docs["staff.txt"])

    with service.session_factory() as session:
        stored = json.dumps([m.citations for m in session.scalars(select(Message))])
    assert "SILVERLYNX" not in stored
    assert "The canteen opens at noon." in stored  # other documents' citations stay
    first, second = _answers(client, conversation_id)
    assert first["content"] == WITHHELD and second["content"] == "At noon [1]."


def test_removing_a_source_purges_its_snippets(env, service):
    from ingest.sources import find_source, remove_source

    client, _, conversation_id, docs, _, _ = env
    with transaction(service.session_factory) as session:
        source_id = session.get(Document, docs["staff.txt"]).source_id
        remove_source(session, find_source(session, source_id))

    with service.session_factory() as session:
        stored = json.dumps([m.citations for m in session.scalars(select(Message))])
    assert "SILVERLYNX" not in stored
    assert _answers(client, conversation_id)[0]["content"] == WITHHELD
