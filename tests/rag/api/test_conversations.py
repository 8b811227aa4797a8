"""Conversations of the chat page, the page itself, and sign-in through a trusted proxy.

Real models, a real database (SQLite and PostgreSQL), the app driven through its ASGI interface.
"""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from rag.api.main import create_app
from rag.api.routers.web import CONTENT_SECURITY_POLICY, WEB_DIR
from rag.config import Settings
from rag.conversations import OriginalsCipher, conceal
from rag.db.models import ApiKey, Message
from rag.db.session import transaction
from rag.keys import create_key
from rag.privacy.anonymizer import Anonymizer

PERSON = "Maria Jensen"
POLICY = f"""# Expenses

Expense claims are approved by {PERSON} in the finance team. Claims must be filed within
30 days of the purchase, with the receipt attached. The daily meal allowance on business
trips is 45 euros.

# Parking

Staff parking is in the north garage. Parking permits are renewed every January.
"""


class RecordingGenerator:
    """The real generator, with the messages of each call kept for inspection."""

    def __init__(self, real) -> None:
        self.real = real
        self.name, self.context_tokens = real.name, real.context_tokens
        self.calls: list[list[dict]] = []

    def count_tokens(self, text_: str) -> int:
        return self.real.count_tokens(text_)

    def stream(self, messages, max_tokens, stop=None):
        self.calls.append(messages)
        return self.real.stream(messages, max_tokens, stop)


@pytest.fixture
def recorder(generator) -> RecordingGenerator:
    return RecordingGenerator(generator)


@pytest.fixture
def service(make_service, recorder, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "expenses.md").write_text(POLICY)
    service = make_service(generator=recorder)
    report = service.pipeline.ingest_folder(folder)
    assert report.indexed == 1 and not report.failed
    return service


def _key(service, name: str, role: str = "reader") -> str:
    with transaction(service.session_factory) as session:
        return create_key(session, name, role, []).secret


@pytest.fixture
def client(service):
    with TestClient(create_app(service=service)) as client:
        client.headers["Authorization"] = f"Bearer {_key(service, 'employee')}"
        yield client


def _events(response) -> list[tuple[str, dict]]:
    events = []
    for block in response.text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields["event"], json.loads(fields["data"])))
    return events


def _ask(client, conversation_id: int, question: str) -> list[tuple[str, dict]]:
    response = client.post(
        f"/v1/conversations/{conversation_id}/messages", json={"question": question}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    return _events(response)


@pytest.mark.slow
def test_a_conversation_streams_stores_and_lists_its_turns(client, recorder):
    created = client.post("/v1/conversations", json={})
    assert created.status_code == 201
    conversation_id = created.json()["id"]

    events = _ask(client, conversation_id, "How many days do I have to file an expense claim?")
    kinds = [kind for kind, _ in events]
    assert kinds[0] == "citations" and kinds[-1] == "done" and "token" in kinds
    done = events[-1][1]
    assert done["found"] is True and done["citations"][0]["path"] == "expenses.md"
    assert done["citations"][0]["file_name"] == "expenses.md"
    streamed = "".join(data["text"] for kind, data in events if kind == "token").strip()
    assert streamed == done["answer"]
    # Each sentence of the answer comes checked against the passages (the page marks those
    # not supported).
    assert done["sentences"] and all(s["text"] in done["answer"] for s in done["sentences"])
    assert all(isinstance(s["grounded"], bool) and s["reason"] for s in done["sentences"])

    listed = client.get("/v1/conversations").json()
    assert [c["id"] for c in listed] == [conversation_id]
    assert listed[0]["title"] == "How many days do I have to file an expense claim?"

    shown = client.get(f"/v1/conversations/{conversation_id}").json()
    assert [m["role"] for m in shown["messages"]] == ["user", "assistant"]
    assert shown["messages"][1]["content"] == done["answer"]
    assert shown["messages"][1]["citations"] == done["citations"]

    # A follow-up carries the earlier turns to the LLM.
    _ask(client, conversation_id, "And what about parking permits?")
    follow_up_prompt = recorder.calls[-1]
    roles = [m["role"] for m in follow_up_prompt]
    assert roles == ["system", "user", "assistant", "user"]
    assert "expense claim" in follow_up_prompt[1]["content"]
    assert "parking permits" in follow_up_prompt[-1]["content"]
    assert len(client.get(f"/v1/conversations/{conversation_id}").json()["messages"]) == 4


@pytest.mark.slow
def test_a_question_in_a_conversation_is_pseudonymized_once(client, monkeypatch):
    """Presidio runs once per question: the text searched is the text stored."""
    question = f"Who approves expense claims, {PERSON}?"
    seen: list[str] = []
    anonymize = Anonymizer.anonymize

    def counting(self, text_, *args, **kwargs):
        seen.append(text_)
        return anonymize(self, text_, *args, **kwargs)

    conversation_id = client.post("/v1/conversations", json={}).json()["id"]
    monkeypatch.setattr(Anonymizer, "anonymize", counting)
    events = _ask(client, conversation_id, question)
    assert events[-1][0] == "done"
    assert seen.count(question) == 1


@pytest.mark.slow
def test_sql_holds_pseudonyms_and_the_asker_sees_their_own_values(client, service):
    conversation_id = client.post("/v1/conversations").json()["id"]
    question = f"Which claims does {PERSON} approve?"
    done = _ask(client, conversation_id, question)[-1][1]
    assert done["title"] == question

    with service.session_factory() as session:
        stored = session.scalars(select(Message.content)).all()
        titles = session.execute(text("SELECT title FROM conversations")).scalars().all()
        blobs = session.scalars(select(Message.originals_encrypted)).all()
    assert stored and all(PERSON not in content for content in stored)
    assert re.search(r"<PERSON_[0-9a-f]+>", stored[0])
    assert all(PERSON not in title for title in titles)
    assert all(blob is None or PERSON.encode() not in blob for blob in blobs)

    shown = client.get(f"/v1/conversations/{conversation_id}").json()
    assert shown["title"] == question
    assert shown["messages"][0]["content"] == question


def test_a_title_given_through_the_api_is_stored_pseudonymized(client, service):
    title = f"Expense claims approved by {PERSON}"
    created = client.post("/v1/conversations", json={"title": title})
    assert created.status_code == 201 and created.json()["title"] == title
    with service.session_factory() as session:
        stored = session.execute(text("SELECT title FROM conversations")).scalars().all()
    assert len(stored) == 1 and re.search(r"<PERSON_[0-9a-f]+>", stored[0])
    assert not any(part in stored[0] for part in PERSON.split())
    with service.session_factory() as session:
        blob = session.execute(text("SELECT title_originals_encrypted FROM conversations"))
        blob = bytes(blob.scalar_one())
    assert blob and PERSON.encode() not in blob
    assert client.get(f"/v1/conversations/{created.json()['id']}").json()["title"] == title
    assert client.get("/v1/conversations").json()[0]["title"] == title


class EchoPseudonyms:
    """A fake LLM that answers with every pseudonym of its sources (a real model may quote
    any of them): what the answer shows as a value is then exactly what was restored."""

    name = "echo"
    context_tokens = 2048

    def count_tokens(self, text_: str) -> int:
        return len(text_.split())

    def stream(self, messages, max_tokens, stop=None):
        sources = messages[-1]["content"].split("Question:")[0]
        yield "People: " + " ".join(re.findall(r"<[A-Z_]+_[0-9a-f]+>", sources))


@pytest.fixture
def capped(make_service, tmp_path):
    """A service that restores at most one of the asker's values into an answer."""
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "expenses.md").write_text(POLICY)
    anonymize = Settings().anonymize.model_copy(update={"max_restored_values": 1})
    service = make_service(generator=EchoPseudonyms(), anonymize=anonymize)
    assert service.pipeline.ingest_folder(folder).indexed == 1
    with TestClient(create_app(service=service)) as client:
        client.headers["Authorization"] = f"Bearer {_key(service, 'employee')}"
        yield client


def test_an_answer_restores_only_a_few_of_the_values_the_asker_typed(capped):
    """A pasted list of names must not reveal who appears in which passage: past the cap,
    the asker's values stay pseudonyms, in the answer as given and as shown again later."""
    conversation_id = capped.post("/v1/conversations").json()["id"]
    question = f"Do Lars Eriksen or {PERSON} approve expense claims?"
    done = _ask(capped, conversation_id, question)[-1][1]
    assert done["found"] and "<PERSON_" in done["answer"]
    assert PERSON not in done["answer"]
    assert all(PERSON not in c["snippet"] for c in done["citations"])

    shown = capped.get(f"/v1/conversations/{conversation_id}").json()
    assert shown["messages"][0]["content"] == question  # the asker's own words, as typed
    answer = shown["messages"][1]
    assert PERSON not in answer["content"]
    assert all(PERSON not in c["snippet"] for c in answer["citations"])

    # Named first in a follow-up, the value is restored: it is the asker's newest.
    again = _ask(capped, conversation_id, f"What does {PERSON} approve?")[-1][1]
    assert PERSON in again["answer"]


def test_not_in_the_documents_is_stored_as_such(client):
    conversation_id = client.post("/v1/conversations").json()["id"]
    done = _ask(client, conversation_id, "What is the boiling point of tungsten?")[-1][1]
    assert done["found"] is False and done["citations"] == []
    shown = client.get(f"/v1/conversations/{conversation_id}").json()
    assert shown["messages"][1]["found"] is False


def test_conversations_are_private_to_their_key(client, service):
    conversation_id = client.post("/v1/conversations").json()["id"]
    other = TestClient(client.app)
    other.headers["Authorization"] = f"Bearer {_key(service, 'colleague')}"
    assert other.get("/v1/conversations").json() == []
    assert other.get(f"/v1/conversations/{conversation_id}").status_code == 404
    assert other.delete(f"/v1/conversations/{conversation_id}").status_code == 404
    asked = other.post(
        f"/v1/conversations/{conversation_id}/messages", json={"question": "parking?"}
    )
    assert asked.status_code == 404
    assert client.get(f"/v1/conversations/{conversation_id}").status_code == 200


def test_delete_and_bad_requests(client, service):
    conversation_id = client.post("/v1/conversations").json()["id"]
    url = f"/v1/conversations/{conversation_id}"
    empty = client.post(f"{url}/messages", json={"question": "   "})
    assert empty.status_code == 422 and empty.json()["message"] == "question is empty"
    too_long = "x" * (service.settings.api.max_question_chars + 1)
    long = client.post(f"{url}/messages", json={"question": too_long})
    assert long.status_code == 422 and "longer than" in long.json()["message"]
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404
    assert client.get(url).json()["code"] == "not_found"
    bare = TestClient(client.app)
    assert bare.get("/v1/conversations").status_code == 401
    assert bare.get("/v1/me").status_code == 401


def test_me_says_who_is_signed_in(client):
    assert client.get("/v1/me").json() == {
        "name": "employee",
        "role": "reader",
        "groups": [],
        "via": "key",
    }


# -- the page --------------------------------------------------------------------------------


def test_the_page_and_its_assets_are_served_with_a_strict_policy(client):
    page = TestClient(client.app).get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "default-src 'self'" in CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert page.headers["x-content-type-options"] == "nosniff"
    # Every script, the modules that app.js imports too: a browser runs a module only when it
    # comes as JavaScript, so a file left off the served list breaks the page.
    scripts = sorted(path.name for path in WEB_DIR.glob("*.js"))
    assert {"app.js", "api.js", "chat.js", "admin.js"} <= set(scripts)
    for name in scripts:
        response = client.get(f"/web/{name}")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/javascript")
    assert client.get("/web/style.css").headers["content-type"].startswith("text/css")
    assert client.get("/web/index.py").status_code == 404
    assert client.get("/web/..%2Fservice.py").status_code == 404


def test_the_page_loads_nothing_from_outside():
    outside = re.compile(
        r"""(src|href)\s*=\s*["']?(https?:)?//|url\(\s*["']?(https?:)?//|@import"""
    )
    pages = [path for path in WEB_DIR.iterdir() if path.suffix in {".html", ".js", ".css"}]
    assert {"index.html", "app.js", "chat.js", "style.css"} <= {path.name for path in pages}
    for path in pages:
        assert not outside.search(path.read_text()), path.name


# -- the cipher ------------------------------------------------------------------------------


def test_originals_are_encrypted_and_need_the_secret():
    originals = {"<PERSON_1a2b3c4d>": PERSON}
    blob = OriginalsCipher(b"secret-one").encrypt(originals)
    assert blob and PERSON.encode() not in blob
    assert OriginalsCipher(b"secret-one").decrypt(blob) == originals
    assert OriginalsCipher(b"secret-two").decrypt(blob) == {}
    assert OriginalsCipher(b"secret-one").encrypt({}) is None


def test_conceal_undoes_restoring():
    originals = {"<PERSON_1>": "Maria Jensen", "<PERSON_2>": "Maria"}
    assert conceal("Ask Maria Jensen or Maria.", originals) == "Ask <PERSON_1> or <PERSON_2>."


# -- sign-in through a trusted proxy ---------------------------------------------------------


PROXY_PEER = ("10.1.2.3", 50000)  # the reverse proxy's address, as the server sees it


@pytest.fixture
def proxied(make_service, generator):
    service = make_service(generator=generator)
    api = service.settings.api.model_copy(
        update={
            "trusted_user_header": "X-Remote-User",
            "trusted_user_key": "intranet-sso",
            "trusted_proxies": ["10.1.0.0/16"],
        }
    )
    service.settings = service.settings.model_copy(update={"api": api})
    with TestClient(create_app(service=service), client=PROXY_PEER) as client:
        yield service, client


def test_a_proxy_user_acts_as_the_configured_key_with_conversations_of_their_own(proxied):
    service, client = proxied
    alice = {"X-Remote-User": "alice.smith"}
    refused = client.get("/v1/me", headers=alice)
    assert refused.status_code == 401 and "intranet-sso" in refused.json()["message"]

    with transaction(service.session_factory) as session:
        create_key(session, "intranet-sso", "reader", ["staff"])
    me = client.get("/v1/me", headers=alice).json()
    assert me == {"name": "alice.smith", "role": "reader", "groups": ["staff"], "via": "proxy"}

    conversation_id = client.post("/v1/conversations", headers=alice).json()["id"]
    assert [c["id"] for c in client.get("/v1/conversations", headers=alice).json()] == [
        conversation_id
    ]
    bob = {"X-Remote-User": "bob"}
    assert client.get("/v1/conversations", headers=bob).json() == []
    assert client.get(f"/v1/conversations/{conversation_id}", headers=bob).status_code == 404
    assert client.get("/v1/me").status_code == 401  # no header, no key

    with service.session_factory() as session:
        names = session.scalars(select(ApiKey.name)).all()
    assert not any("alice" in name or "bob" in name for name in names)


def test_the_proxy_header_is_ignored_unless_configured(client):
    bare = TestClient(client.app)
    assert bare.get("/v1/me", headers={"X-Remote-User": "alice"}).status_code == 401


def test_a_trusted_header_needs_the_key_it_acts_as():
    from rag.config import ApiSettings

    with pytest.raises(ValueError, match="trusted_user_key"):
        ApiSettings(trusted_user_header="X-Remote-User")


def test_the_proxy_header_from_anywhere_but_the_proxy_is_refused(proxied):
    service, client = proxied
    with transaction(service.session_factory) as session:
        create_key(session, "intranet-sso", "reader", ["staff"])
    own_key = {"Authorization": f"Bearer {_key(service, 'someone')}"}
    assert client.get("/v1/me", headers={"X-Remote-User": "alice"}).status_code == 200

    for peer in [("192.0.2.7", 40000), ("10.2.0.1", 40000), ("::1", 40000)]:
        outsider = TestClient(client.app, client=peer)
        alone = outsider.get("/v1/me", headers={"X-Remote-User": "alice"})
        assert alone.status_code == 401, peer
        assert "api.trusted_proxies" in alone.json()["message"]
        sneaked = outsider.get("/v1/conversations", headers={"X-Remote-User": "alice", **own_key})
        assert sneaked.status_code == 401
        assert outsider.get("/v1/me", headers=own_key).json()["name"] == "someone"


def test_the_trusted_proxies_setting_is_checked():
    from rag.config import ApiSettings

    header = {"trusted_user_header": "X-Remote-User", "trusted_user_key": "sso"}
    with pytest.raises(ValueError, match="api.trusted_proxies is empty"):
        ApiSettings(**header)
    with pytest.raises(ValueError, match="'proxy.local' is not an IP address"):
        ApiSettings(**header, trusted_proxies=["proxy.local"])
    assert ApiSettings(**header, trusted_proxies=["10.0.0.5", "fd00::/8"]).trusted_proxies
