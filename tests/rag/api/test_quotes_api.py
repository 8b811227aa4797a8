"""Quotes over the API, with the real service and models, on SQLite and PostgreSQL: in the plain
answer, streamed before the first token, and in the OpenAI endpoint's sources block."""

from __future__ import annotations

import json

QUESTION = "When does the canteen serve lunch?"
ANSWERING = "The canteen serves lunch from noon until two."


def _events(text: str) -> list[tuple[str, dict]]:
    events = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines.get("event", ""), json.loads(lines["data"])))
    return events


def test_query_returns_the_answering_sentence_as_its_quote(api_env):
    response = api_env.client.post(
        "/v1/query", json={"question": QUESTION}, headers=api_env.headers("lobby")
    )
    assert response.status_code == 200, response.text
    body = response.json()
    top = body["quotes"][0]
    assert top["text"] == ANSWERING
    citation = next(c for c in body["citations"] if c["n"] == top["citation"])
    assert citation["snippet"][top["start"] : top["end"]] == top["text"]
    assert len(body["quotes"]) <= 2
    assert all(len(q["text"].split()) <= 60 for q in body["quotes"])


def test_stream_sends_the_quotes_after_the_citations_and_before_the_first_token(api_env):
    response = api_env.client.post(
        "/v1/query", json={"question": QUESTION, "stream": True}, headers=api_env.headers("lobby")
    )
    assert response.status_code == 200, response.text
    events = _events(response.text)
    names = [name for name, _ in events]
    assert names[:2] == ["citations", "quotes"] and "token" in names
    assert names.index("quotes") < names.index("token")
    assert events[1][1]["quotes"][0]["text"] == ANSWERING
    assert events[-1][0] == "done" and events[-1][1]["quotes"] == events[1][1]["quotes"]


def test_not_found_has_no_quotes(api_env):
    response = api_env.client.post(
        "/v1/query",
        json={"question": "What is the airspeed velocity of an unladen swallow?"},
        headers=api_env.headers("lobby"),
    )
    body = response.json()
    assert body["found"] is False and body["quotes"] == []


def test_openai_sources_block_holds_the_quote(api_env):
    response = api_env.client.post(
        "/v1/chat/completions",
        json={"model": "private-docs", "messages": [{"role": "user", "content": QUESTION}]},
        headers=api_env.headers("lobby"),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    content = body["choices"][0]["message"]["content"]
    sources = content[content.rindex("\n\nSources:\n") :]
    assert f'> "{ANSWERING}" [{body["quotes"][0]["citation"]}]' in sources
    assert body["quotes"][0]["text"] == ANSWERING


def test_query_checks_each_sentence_of_the_answer(api_env):
    response = api_env.client.post(
        "/v1/query", json={"question": QUESTION}, headers=api_env.headers("lobby")
    )
    body = response.json()
    assert body["sentences"], body
    for sentence in body["sentences"]:
        assert sentence["text"] in body["answer"]
        assert isinstance(sentence["grounded"], bool) and sentence["reason"]


def test_the_streams_done_event_checks_the_sentences(api_env):
    response = api_env.client.post(
        "/v1/query", json={"question": QUESTION, "stream": True}, headers=api_env.headers("lobby")
    )
    name, done = _events(response.text)[-1]
    assert name == "done" and done["sentences"]
    assert all(s["text"] in done["answer"] for s in done["sentences"])
