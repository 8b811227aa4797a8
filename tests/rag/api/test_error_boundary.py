"""An unexpected error of any route: the client gets a 500 with a request id, the log the id
and the error's type; neither gets its message or traceback, which may quote values."""

from __future__ import annotations

import httpx
from fastapi.responses import StreamingResponse

from tests.rag.api.conftest import live_server

VALUE = "Priya Raman"


def _failing_route() -> None:
    raise RuntimeError(f"the row of {VALUE} could not be written")


def _failing_stream() -> StreamingResponse:
    def pieces():
        yield "first piece\n"
        raise RuntimeError(f"the passage about {VALUE} could not be read")

    return StreamingResponse(pieces(), media_type="text/plain")


def _add_routes(app) -> None:
    if not any(getattr(r, "path", "") == "/v1/test-failing" for r in app.router.routes):
        app.add_api_route("/v1/test-failing", _failing_route)
        app.add_api_route("/v1/test-failing-stream", _failing_stream)


def _read_cut_stream(url: str) -> str:
    received = ""
    try:
        with httpx.stream("GET", url, timeout=30) as response:
            for piece in response.iter_text():
                received += piece
    except httpx.RemoteProtocolError:
        pass  # the stream ends where the error happened
    return received


def test_an_unexpected_error_is_logged_by_type_and_request_id_only(api_env, caplog, capfd):
    _add_routes(api_env.app)
    caplog.set_level("DEBUG")
    with live_server(api_env.app) as base:
        response = httpx.get(f"{base}/v1/test-failing", timeout=30)
        streamed = _read_cut_stream(f"{base}/v1/test-failing-stream")
        healthy = httpx.get(f"{base}/healthz", timeout=30)
    logs = caplog.text + capfd.readouterr().err
    assert response.status_code == 500
    request_id = response.headers["X-Request-ID"]
    assert response.json()["request_id"] == request_id and response.json()["code"] == "internal"
    assert VALUE not in response.text
    assert f"request {request_id}: internal error (RuntimeError)" in caplog.text
    assert streamed.startswith("first piece") and VALUE not in streamed
    assert healthy.status_code == 200 and healthy.headers["X-Request-ID"]
    assert VALUE not in logs and "Traceback" not in logs, logs


def test_an_unexpected_error_does_not_escape_the_app(api_env):
    """The test client re-raises what escapes the app, as uvicorn would log it."""
    _add_routes(api_env.app)
    response = api_env.client.get("/v1/test-failing")
    assert response.status_code == 500 and VALUE not in response.text
