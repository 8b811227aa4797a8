"""The service secret: the key of the pseudonyms, and the root the path vault's keys derive from."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

log = logging.getLogger(__name__)


def load_or_create_secret(configured: str | None, data_dir: Path) -> bytes:
    """The pseudonym key: from the settings, else data_dir/secret.key, made on first start."""
    if configured:
        return configured.encode()
    path = data_dir / "secret.key"
    if path.is_file():
        return path.read_text().strip().encode()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    log.info("generated a new pseudonym key in %s", path)
    return key.encode()
