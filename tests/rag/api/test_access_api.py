"""Per-document access over every route that returns document content: documents in three
groups, keys with other groups, questions aimed squarely at the forbidden documents. Nothing of
those documents may appear anywhere in the response: text, citations, ids, counts."""

from __future__ import annotations

import json
import re

import pytest

from tests.rag.api.conftest import GROUP_DOCS, MARKERS

# Questions that name the forbidden documents' own words and codenames.
AIMED_AT = {
    "hr": "What is the chief executive salary approved under codename BLUEHERON?",
    "eng": "Which pipeline named REDFALCON runs production deploys on Tuesday?",
    "finance": "What is the marketing budget for 2025 tracked under codename GREENOTTER?",
}
# key -> the groups whose documents it must never see
FORBIDDEN = {
    "eng-bot": ["hr", "finance"],
    "hr-bot": ["eng", "finance"],
    "finance-bot": ["hr", "eng"],
    "lobby": ["hr", "eng", "finance"],
}


def _assert_nothing_of(env, groups: list[str], route: str, body: str, question: str) -> None:
    for group in groups:
        # An answer may repeat the asker's own words (a codename in the question); every other
        # marker is the document's alone.
        for marker in (m for m in MARKERS[group] if m not in question):
            assert marker not in body, f"'{marker}' of {group} leaked through {route}"
    forbidden_ids = {env.document_ids[name] for group in groups for name in GROUP_DOCS[group]}
    id_field = r'"id":\s*(\d+)' if route == "documents" else r'"document_id":\s*(\d+)'
    shown = {int(i) for i in re.findall(id_field, body)}
    assert not shown & forbidden_ids, f"a forbidden document id leaked through {route}"


def _responses(env, key: str, question: str) -> dict[str, str]:
    """The raw body of every route that retrieves, for one question."""
    headers = env.headers(key)
    client = env.client
    out = {}
    for stream in (False, True):
        r = client.post("/v1/query", json={"question": question, "stream": stream}, headers=headers)
        assert r.status_code == 200, r.text
        out[f"query stream={stream}"] = r.text
        chat = {"model": "any", "messages": [{"role": "user", "content": question}]}
        r = client.post("/v1/chat/completions", json={**chat, "stream": stream}, headers=headers)
        assert r.status_code == 200, r.text
        out[f"chat stream={stream}"] = r.text
    r = client.post("/v1/search", json={"question": question, "top_k": 50}, headers=headers)
    assert r.status_code == 200, r.text
    out["search"] = r.text
    r = client.get("/v1/documents", headers=headers)
    assert r.status_code == 200, r.text
    out["documents"] = r.text
    return out


@pytest.mark.parametrize("key", sorted(FORBIDDEN))
def test_questions_aimed_at_forbidden_documents_reveal_nothing(api_env, key):
    for group in FORBIDDEN[key]:
        question = AIMED_AT[group]
        for route, body in _responses(api_env, key, question).items():
            assert body, route
            # Search results and document lists hold no answer text: not even the codename.
            echo = question if route.startswith(("query", "chat")) else ""
            _assert_nothing_of(api_env, FORBIDDEN[key], route, body, echo)


def test_forbidden_documents_cannot_be_fetched_by_id(api_env):
    headers = api_env.headers("eng-bot")
    hr_doc = api_env.document_ids["salaries.txt"]
    missing = api_env.client.get("/v1/documents/999999", headers=headers)
    hidden = api_env.client.get(f"/v1/documents/{hr_doc}", headers=headers)
    # Hidden looks exactly like missing: the key cannot even learn that it exists.
    assert hidden.status_code == missing.status_code == 404
    assert "BLUEHERON" not in hidden.text and "salaries" not in hidden.text


def test_the_groups_own_key_does_get_them(api_env):
    # The control: the same questions do find the documents for a key of their group, so the
    # checks above would fail if access were not applied.
    for key, group, path in (
        ("hr-bot", "hr", "salaries.txt"),
        ("eng-bot", "eng", "deploys.txt"),
        ("finance-bot", "finance", "budget.txt"),
        ("admin", "hr", "salaries.txt"),
    ):
        r = api_env.client.post(
            "/v1/search", json={"question": AIMED_AT[group]}, headers=api_env.headers(key)
        )
        results = r.json()["results"]
        assert results and results[0]["path"] == path, (key, results)
    r = api_env.client.post(
        "/v1/query", json={"question": AIMED_AT["hr"]}, headers=api_env.headers("hr-bot")
    )
    body = r.json()
    assert body["found"] and body["citations"][0]["path"] == "salaries.txt"


def test_open_documents_are_visible_to_every_key(api_env):
    for key in FORBIDDEN:
        r = api_env.client.get("/v1/documents", headers=api_env.headers(key))
        paths = {doc["path"] for doc in r.json()}
        assert "handbook.txt" in paths
    r = api_env.client.post(
        "/v1/search",
        json={"question": "When does the canteen serve lunch?"},
        headers=api_env.headers("lobby"),
    )
    assert [hit["path"] for hit in r.json()["results"]][:1] == ["handbook.txt"]


def test_streamed_events_carry_nothing_forbidden_either(api_env):
    r = api_env.client.post(
        "/v1/query",
        json={"question": AIMED_AT["hr"], "stream": True},
        headers=api_env.headers("eng-bot"),
    )
    events = [json.loads(line[6:]) for line in r.text.splitlines() if line.startswith("data: ")]
    assert events[-1]["citations"] == [] or all(
        c["path"] not in MARKERS["hr"] for c in events[-1]["citations"]
    )
