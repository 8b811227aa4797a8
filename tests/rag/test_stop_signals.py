"""The first SIGTERM/Ctrl-C asks for a gentle stop, the second quits; handlers are restored."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from rag.stop_signals import stop_on_signals


class Recorder:
    def __init__(self) -> None:
        self.said: list[str] = []
        self.quit_codes: list[int] = []
        self.quit = threading.Event()

    def say(self, line: str) -> None:
        self.said.append(line)

    def quit_now(self, code: int) -> None:
        self.quit_codes.append(code)
        self.quit.set()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_the_first_signal_sets_stop_and_the_second_quits(signum):
    stop, recorder = threading.Event(), Recorder()
    with stop_on_signals(stop, say=recorder.say, quit_now=recorder.quit_now):
        os.kill(os.getpid(), signum)
        assert stop.wait(5), "the first signal did not set stop"
        assert recorder.quit_codes == []
        os.kill(os.getpid(), signum)
        assert recorder.quit.wait(5), "the second signal did not quit"
    assert recorder.quit_codes == [128 + signum]
    assert "Ctrl-C again" in recorder.said[0]


def test_without_a_signal_nothing_happens_and_the_handlers_come_back():
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    stop, recorder = threading.Event(), Recorder()
    with stop_on_signals(stop, say=recorder.say, quit_now=recorder.quit_now):
        assert signal.getsignal(signal.SIGTERM) is not before[signal.SIGTERM]
    assert {sig: signal.getsignal(sig) for sig in before} == before
    assert not stop.is_set() and recorder.said == [] and recorder.quit_codes == []
    assert not any(t.name == "stop-signals" for t in threading.enumerate())


def test_a_signal_while_the_main_thread_waits_on_stop_ends_the_wait():
    """The worker's idle loop is `stop.wait(poll_s)`: the signal must end it promptly."""
    stop = threading.Event()
    with stop_on_signals(stop, say=lambda _: None, quit_now=lambda _: None):
        threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGTERM)).start()
        assert stop.wait(30)
