"""Requests are refused before their body is read or any work is done: bodies bounded per
route (413), callers authenticated first (401), questions refused while the generation queue is
full (429), and every turn of a chat completion bounded (422).

The ASGI app is driven directly where it matters how much of a body was read: the test's
`receive` counts the chunks the app asked for."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor

import pytest

import rag.use_cases.keys as keys_module
from rag.api.generation_gate import GenerationGate

CHUNK = 1024 * 1024


def _drive(app, method: str, path: str, headers: dict[str, str], chunks: int, chunk: bytes):
    """Send a request whose body is `chunks` times `chunk`; return (status, body, chunks the
    app read)."""
    read = 0
    sent: list[dict] = []

    async def receive() -> dict:
        nonlocal read
        if read >= chunks:
            return {"type": "http.disconnect"}
        read += 1
        return {"type": "http.request", "body": chunk, "more_body": read < chunks}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }
    # In a thread of its own: a test run that drove a browser earlier (Playwright's sync API)
    # leaves an event loop running in this one, and asyncio.run refuses to nest.
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, app(scope, receive, send)).result()
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], json.loads(body), read


def _upload_headers(total: int, key: str | None = None) -> dict[str, str]:
    headers = {
        "content-type": "multipart/form-data; boundary=xyz",
        "content-length": str(total),
    }
    if key:
        headers["authorization"] = f"Bearer {key}"
    return headers


def test_an_upload_without_a_valid_key_is_refused_before_its_body_is_read(make_api):
    with make_api() as env:
        for key, message in [
            (None, "missing API key: send 'Authorization: Bearer <key>'"),
            ("rag_not-a-key", "invalid or revoked API key"),
        ]:
            status, body, read = _drive(
                env.app, "POST", "/v1/documents", _upload_headers(30 * CHUNK, key), 30,
                b"x" * CHUNK,
            )  # fmt: skip
            assert (status, body["message"]) == (401, message)
            assert read == 0  # was: all 30 MB read, then the 401


def test_a_body_over_its_route_limit_is_refused_before_it_is_read(make_api):
    with make_api(max_upload_mb=1, max_json_kb=4) as env:
        admin = env.keys["admin"]
        status, body, read = _drive(
            env.app, "POST", "/v1/documents", _upload_headers(5 * CHUNK, admin), 5, b"x" * CHUNK
        )
        assert (status, read) == (413, 0)
        assert body["message"] == (
            "request body is larger than this route's limit of 1 MB (api.max_upload_mb)"
        )
        headers = {
            "authorization": f"Bearer {env.keys['lobby']}",
            "content-type": "application/json",
            "content-length": str(8 * 1024),
        }
        status, body, read = _drive(env.app, "POST", "/v1/search", headers, 8, b" " * 1024)
        assert (status, read) == (413, 0)
        assert body["message"] == (
            "request body is larger than this route's limit of 4 KB (api.max_json_kb)"
        )


def test_a_streamed_body_is_cut_off_at_the_limit(make_api):
    with make_api(max_json_kb=4) as env:
        headers = {
            "authorization": f"Bearer {env.keys['lobby']}",
            "content-type": "application/json",
            "transfer-encoding": "chunked",  # no Content-Length to check up front
        }
        status, body, read = _drive(env.app, "POST", "/v1/search", headers, 1000, b" " * 1024)
        assert status == 413 and read == 5  # stopped at the first kilobyte past the limit
        assert body["message"].endswith("(api.max_json_kb)")


def test_every_turn_of_a_chat_completion_is_bounded(make_api):
    with make_api(max_messages=4, max_message_chars=100) as env:
        headers = env.headers("lobby")

        def ask(messages):
            body = {"model": "private-docs", "messages": messages}
            return env.client.post("/v1/chat/completions", json=body, headers=headers)

        question = {"role": "user", "content": "When is the canteen open?"}
        many = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}] * 2
        response = ask([*many, question])
        assert response.status_code == 422
        assert response.json()["message"] == "too many messages: at most 4 (api.max_messages)"

        response = ask([{"role": "system", "content": "x" * 101}, question])
        assert response.status_code == 422
        assert response.json()["message"] == (
            "message 1 is longer than 100 characters (api.max_message_chars)"
        )
        assert ask([{"role": "system", "content": "x" * 100}, question]).status_code == 200


@pytest.mark.parametrize(
    "path, payload",
    [
        ("/v1/query", {"question": "When is the canteen open?"}),
        (
            "/v1/chat/completions",
            {"model": "m", "messages": [{"role": "user", "content": "When is lunch?"}]},
        ),
    ],
)
def test_a_full_generation_queue_refuses_before_any_work(make_api, monkeypatch, path, payload):
    """The refusal comes before authentication (a database query), pseudonymizing and
    embedding: nothing that waits for a busy CPU. Counted, not timed."""
    calls: list[str] = []

    def counting(name, real):
        def wrapper(*args, **kwargs):
            calls.append(name)
            return real(*args, **kwargs)

        return wrapper

    with make_api(max_concurrent_generations=1, generation_queue=0) as env:
        gate = env.app.state.generation_gate = GenerationGate(1, 0, 60)
        ticket = gate.admit()  # the one place is taken
        service = env.service
        monkeypatch.setattr(keys_module, "find_key", counting("find_key", keys_module.find_key))
        monkeypatch.setattr(
            service.anonymizer, "anonymize", counting("anonymize", service.anonymizer.anonymize)
        )
        monkeypatch.setattr(service.embedder, "embed", counting("embed", service.embedder.embed))
        response = env.client.post(path, json=payload, headers=env.headers("lobby"))
        assert response.status_code == 429
        assert int(response.headers["Retry-After"]) >= 1
        assert calls == []
        ticket.release()
        monkeypatch.undo()
        assert env.client.post(path, json=payload, headers=env.headers("lobby")).status_code == 200
