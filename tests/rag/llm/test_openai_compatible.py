"""The openai_compatible backend's HTTP behaviour: retries, timeouts, errors, what it sends.

A server that is down, or one that accepts and never answers, is a real socket on loopback. The
protocol details (headers, payload, server-sent events, error bodies) are checked against a
small stdlib HTTP server that answers like vLLM does; answering real questions over HTTP is
the contract suite's job (test_generator_contract.py, against llama.cpp's server).
"""

from __future__ import annotations

import json
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from rag.config import ServerSettings, Settings
from rag.llm import GeneratorError, GeneratorTimeout, GeneratorUnavailable
from rag.llm.openai_compatible import OpenAiCompatibleGenerator

QUESTION = [{"role": "user", "content": "How many days of leave?"}]
_connects: list[int] = []
_recording = False


def _audit(event: str, args: tuple) -> None:
    if _recording and event == "socket.connect" and isinstance(args[1], tuple):
        _connects.append(args[1][1])


sys.addaudithook(_audit)  # cannot be removed: it records only while _recording is set


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def generator(base_url: str, **server) -> OpenAiCompatibleGenerator:
    server.setdefault("retry_backoff_s", 0.01)
    settings = Settings().llm.model_copy(
        update={
            "backend": "openai_compatible",
            "server": ServerSettings(base_url=base_url, **server),
        }
    )
    return OpenAiCompatibleGenerator(settings)


def test_a_server_that_is_down_is_a_clear_error_after_the_retries():
    global _recording
    port = free_port()  # nothing listens there
    llm = generator(f"http://127.0.0.1:{port}/v1", model="m", retries=2)
    _connects.clear()
    _recording = True
    try:
        with pytest.raises(GeneratorUnavailable, match=f"127.0.0.1:{port}/v1 is not reachable"):
            llm.stream(QUESTION, max_tokens=8).text()
    finally:
        _recording = False
    assert _connects.count(port) == 3  # the first try and two retries


@pytest.fixture
def silent_server():
    """Accepts connections and never answers."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield listener.getsockname()[1], accepted
    listener.close()
    for connection in accepted:
        connection.close()


def test_silence_past_the_read_timeout_is_a_timeout_and_not_retried(silent_server):
    port, accepted = silent_server
    llm = generator(f"http://127.0.0.1:{port}/v1", model="m", read_timeout_s=0.3, retries=2)
    with pytest.raises(GeneratorTimeout, match="sent nothing for 0.3 s"):
        llm.stream(QUESTION, max_tokens=8).text()
    assert len(accepted) == 1  # the server was reached: the request is not sent again


class StubHandler(BaseHTTPRequestHandler):
    """Answers like vLLM: /models, and /chat/completions streamed or whole."""

    requests: list[dict] = []
    mode = "ok"

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:
        self.requests.append({"path": self.path, "headers": dict(self.headers)})
        self._send_json({"data": [{"id": "stub-model"}]})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
        if self.mode == "error":
            # vLLM's validation errors quote the request's input: the prompt.
            message = f"invalid request: {body['messages']!r}"
            error = {"message": message, "type": "BadRequestError", "code": 400}
            self._send_json({"error": error}, status=400)
        elif self.mode == "redirect":
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:9/v1/chat/completions")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif body["stream"]:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            events = [": ping", ""]
            for word in ("Twenty", "-five", " days."):
                chunk = {"choices": [{"delta": {"content": word}, "finish_reason": None}]}
                events += [f"data: {json.dumps(chunk)}", ""]
            final = {"choices": [{"delta": {}, "finish_reason": "stop"}]}
            usage = {"choices": [], "usage": {"prompt_tokens": 11, "completion_tokens": 4}}
            events += [f"data: {json.dumps(final)}", "", f"data: {json.dumps(usage)}", ""]
            events += ["data: [DONE]", ""]
            self.wfile.write(("\n".join(events) + "\n").encode())
        else:
            message = {"message": {"content": "Twenty-five days."}, "finish_reason": "length"}
            usage = {"prompt_tokens": 11, "completion_tokens": 4}
            self._send_json({"choices": [message], "usage": usage})

    def _send_json(self, payload: dict, status: int = 200) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def stub_server():
    StubHandler.requests = []
    StubHandler.mode = "ok"
    server = ThreadingHTTPServer(("127.0.0.1", 0), StubHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_streams_server_sent_events_with_the_key_and_the_servers_usage(stub_server):
    llm = generator(stub_server, api_key="sk-local-test")
    stream = llm.stream(QUESTION, max_tokens=8, stop=["\n\n"])
    assert list(stream) == ["Twenty", "-five", " days."]
    assert stream.usage.prompt_tokens == 11 and stream.usage.completion_tokens == 4
    assert not stream.usage.estimated
    models, chat = StubHandler.requests
    assert models["path"] == "/v1/models"  # no model configured: the first one listed
    assert chat["path"] == "/v1/chat/completions"
    assert chat["headers"]["Authorization"] == "Bearer sk-local-test"
    body = chat["body"]
    assert body["model"] == "stub-model" and llm.name == "stub-model"
    assert body["max_tokens"] == 8 and body["stop"] == ["\n\n"] and body["stream"] is True
    assert body["messages"] == QUESTION


def test_complete_reads_the_whole_answer(stub_server):
    completion = generator(stub_server, model="m").complete(QUESTION, max_tokens=4)
    assert completion.text == "Twenty-five days."
    assert completion.finish_reason == "length"
    assert completion.usage.completion_tokens == 4
    assert StubHandler.requests[0]["body"]["stream"] is False


def test_proxy_variables_are_ignored(stub_server, monkeypatch):
    closed = f"http://127.0.0.1:{free_port()}"
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, closed)
    assert generator(stub_server, model="m").complete(QUESTION, max_tokens=4).text


def test_a_server_error_names_the_status_and_type_but_never_quotes_the_servers_text(
    stub_server, caplog
):
    StubHandler.mode = "error"
    caplog.set_level("DEBUG")
    with pytest.raises(GeneratorError, match=r"HTTP 400 \(BadRequestError\)") as caught:
        generator(stub_server, model="m", retries=3).stream(QUESTION, max_tokens=4).text()
    assert "leave" not in str(caught.value) and "leave" not in caplog.text
    assert len(StubHandler.requests) == 1  # the server answered: no retry


def test_a_redirect_is_not_followed(stub_server):
    StubHandler.mode = "redirect"
    with pytest.raises(GeneratorError, match="HTTP 302"):
        generator(stub_server, model="m").complete(QUESTION, max_tokens=4)


def test_without_a_local_tokenizer_counts_are_estimated_on_the_high_side(stub_server):
    llm = generator(stub_server, model="m")
    assert llm.count_tokens("a" * 30) == 10


@pytest.mark.slow
def test_the_llama_cpp_server_sends_no_usage_in_a_stream_so_it_is_counted(server_generator):
    stream = server_generator.stream(QUESTION, max_tokens=8)
    pieces = list(stream)
    assert stream.usage.estimated
    assert stream.usage.completion_tokens == len(pieces)
    assert not server_generator.complete(QUESTION, max_tokens=8).usage.estimated
