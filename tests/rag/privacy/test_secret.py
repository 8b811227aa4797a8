"""The service secret: made once, the same for every process that starts with the data folder."""

from __future__ import annotations

import stat
import threading

import pytest

from rag.privacy.secret import SecretFileError, load_or_create_secret


def test_a_configured_key_is_used_as_given(tmp_path):
    assert load_or_create_secret("my-key", tmp_path / "data") == b"my-key"
    assert not (tmp_path / "data").exists()


def test_the_key_is_made_once_owner_only_and_read_back(tmp_path):
    first = load_or_create_secret(None, tmp_path)
    assert len(first) == 64
    assert load_or_create_secret(None, tmp_path) == first
    assert stat.S_IMODE((tmp_path / "secret.key").stat().st_mode) == 0o600


def _start_together(data_dir, starters: int = 8) -> tuple[list[bytes], list[BaseException]]:
    barrier = threading.Barrier(starters)
    keys: list[bytes] = []
    errors: list[BaseException] = []

    def start() -> None:
        barrier.wait()
        try:
            keys.append(load_or_create_secret(None, data_dir))
        except BaseException as exc:  # noqa: BLE001 - the failure under test
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(starters)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return keys, errors


def test_processes_starting_together_on_a_new_data_folder_share_one_key(tmp_path):
    """Two workers started at once on a fresh data folder: neither fails because the other
    made the file first, and neither reads it before its key is written."""
    for attempt in range(40):
        keys, errors = _start_together(tmp_path / str(attempt))
        assert not errors, f"attempt {attempt}: {errors[0]!r}"
        assert len(set(keys)) == 1 and len(keys[0]) == 64, f"attempt {attempt}: {set(keys)}"
    assert not list(tmp_path.glob("*/.secret.key.*")), "a temporary key file was left behind"


def test_an_empty_key_file_is_refused_rather_than_used(tmp_path):
    (tmp_path / "secret.key").write_text("")
    with pytest.raises(SecretFileError, match="is empty: restore it from a backup"):
        load_or_create_secret(None, tmp_path)
