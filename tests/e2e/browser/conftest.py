"""A real server and a real browser for the chat-page tests.

One uvicorn server per session on a free loopback port, over a temporary data dir with
examples/ ingested by the normal pipeline (the session's loaded models are shared). Debian's
chromium, installed by `make install-test`, driven headless by Playwright: Playwright's own
browser download is never used.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from rag.config import Settings
from rag.db.migrate import upgrade
from rag.db.session import transaction
from rag.keys import create_key
from tests.conftest import EXAMPLES, REPO_ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
# Screenshots for a person to look at; the folder is gitignored.
SCREENSHOTS = REPO_ROOT / "test-output" / "browser"
# The small CPU model answers in seconds; this is a ceiling for a loaded CI machine.
ANSWER_TIMEOUT_MS = 180_000


@dataclass
class Server:
    url: str
    service: object
    reader_key: str
    admin_key: str

    def new_key(self, name: str, role: str = "reader") -> str:
        with transaction(self.service.session_factory) as session:
            return create_key(session, name, role, []).secret


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def server(tmp_path_factory, embedder, anonymizer, generator):
    import uvicorn

    from rag.api.main import create_app
    from rag.service import RagService

    data_dir = tmp_path_factory.mktemp("browser")
    settings = Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'rag.db'}")
    upgrade(settings.resolved_database_url)
    service = RagService(settings, embedder=embedder, anonymizer=anonymizer, generator=generator)
    report = service.pipeline.ingest_folder(EXAMPLES)
    assert report.indexed == 5 and not report.failed
    with transaction(service.session_factory) as session:
        reader = create_key(session, "browser-reader", "reader", []).secret
        admin = create_key(session, "browser-admin", "admin", []).secret

    # No worker thread: jobs the tests make stay as the tests made them.
    app = create_app(service=service, run_worker=False)
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    uvicorn_server = uvicorn.Server(config)
    thread = threading.Thread(target=uvicorn_server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not uvicorn_server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the test server did not start")
        time.sleep(0.05)
    yield Server(f"http://127.0.0.1:{port}", service, reader, admin)
    uvicorn_server.should_exit = True
    thread.join(timeout=30)
    service.close()


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: `make install-test` installs Debian's chromium"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


# Chromium's built-in PDF viewer, which shows an opened original, and the browser's own
# resources it loads: part of the browser, no network.
BROWSER_INTERNAL = ("chrome-extension://mhjfbmdgcfjbbpaeojofohoefgiehjai/", "chrome://resources/")


@pytest.fixture
def open_page(browser, server):
    """A fresh browser context (empty session storage) at the given size, on the chat page.
    Every request the page makes must go to the server itself: nothing from outside."""
    contexts = []
    outside: list[str] = []

    def record(request) -> None:
        if not request.url.startswith((server.url + "/", "blob:", "data:", *BROWSER_INTERNAL)):
            outside.append(request.url)

    def open_(width: int = 1280, height: int = 800):
        context = browser.new_context(viewport={"width": width, "height": height})
        context.set_default_timeout(20_000)
        context.on("request", record)
        contexts.append(context)
        page = context.new_page()
        page.goto(server.url + "/")
        return page

    yield open_
    for context in contexts:
        context.close()
    assert not outside, f"the page requested outside addresses: {outside}"


def sign_in(page, key: str) -> None:
    page.fill("#key", key)
    page.press("#key", "Enter")
    page.wait_for_selector("#chat:not([hidden])")


def ask(page, question: str):
    """Ask through the question box (Enter sends) and wait for the whole streamed answer."""
    answers_before = page.locator(".message.answer").count()
    page.fill("#question", question)
    page.press("#question", "Enter")
    page.wait_for_function(
        """n => {
            const answer = document.querySelectorAll('.message.answer')[n];
            const failed = document.getElementById('chat-status').textContent;
            return failed || (answer && ['done', 'failed'].includes(answer.dataset.state));
        }""",
        arg=answers_before,
        timeout=ANSWER_TIMEOUT_MS,
    )
    answer = page.locator(".message.answer").nth(answers_before)
    status = page.text_content("#chat-status")
    assert answer.get_attribute("data-state") == "done", f"no answer: {status}"
    page.wait_for_selector("#send:not([disabled])")  # the page has finished this turn
    return answer


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=str(path), full_page=True)
    return path
