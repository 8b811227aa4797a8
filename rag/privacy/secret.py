"""The service secret: the key of the pseudonyms, and the root the path vault's keys derive from."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from pathlib import Path

log = logging.getLogger(__name__)


class SecretFileError(RuntimeError):
    pass


def load_or_create_secret(configured: str | None, data_dir: Path) -> bytes:
    """The pseudonym key: from the settings, else data_dir/secret.key, made on first start."""
    if configured:
        return configured.encode()
    path = data_dir / "secret.key"
    if not path.is_file():
        data_dir.mkdir(parents=True, exist_ok=True)
        _create(path)
    key = path.read_text().strip()
    if not key:
        raise SecretFileError(
            f"{path} is empty: restore it from a backup (the stored pseudonyms need it), "
            "or delete it and re-index every source"
        )
    return key.encode()


def _create(path: Path) -> None:
    """Write a new key under a private name, then link it into place: a worker and the API
    starting together on a new data folder both see either no file or the whole key, and the
    one that links second reads the first one's key."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
            log.info("generated a new pseudonym key in %s", path)
    finally:
        temporary.unlink()
