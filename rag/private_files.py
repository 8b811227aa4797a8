"""The data folder is the service's alone: folders 0700, files 0600 (SQLite database, FAISS
snapshot, secret key, uploads). Originals and the pseudonym key live there."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

FOLDER_MODE = 0o700
FILE_MODE = 0o600
# What the service keeps in the data folder; anything else there is left as it is.
OWN_ENTRIES = ("rag.db", "rag.db-wal", "rag.db-shm", "rag.db-journal", "secret.key", "index",
               "uploads")  # fmt: skip


def make_private(data_dir: Path) -> None:
    """Create `data_dir` if needed and take it and the service's own files and folders in it
    to owner-only (links are left alone: they are not ours to change)."""
    private_folder(data_dir)
    for name in OWN_ENTRIES:
        entry = data_dir / name
        if entry.is_dir() and not entry.is_symlink():
            _chmod(entry, FOLDER_MODE)
            for folder, dirs, files in os.walk(entry):
                for child in dirs:
                    _chmod(Path(folder) / child, FOLDER_MODE)
                for child in files:
                    _chmod(Path(folder) / child, FILE_MODE)
        elif entry.is_file():
            _chmod(entry, FILE_MODE)


def private_folder(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE)
    _chmod(path, FOLDER_MODE)


def _chmod(path: Path, mode: int) -> None:
    if path.is_symlink():
        return
    # Vanished meanwhile, or not ours: the data folder's own mode still keeps others out.
    with contextlib.suppress(OSError):
        os.chmod(path, mode)
