"""Resolve a configured model reference to a local file or folder, never to a hub download."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

PACKAGE_PREFIX = "package:"

# The model folder's small descriptive files, hashed whole: another model at the same path
# (a replaced folder, a moved symlink) changes them. Weight files count by name and size.
_DESCRIPTIVE_SUFFIXES = (".json", ".txt", ".model")
_MAX_DESCRIPTIVE_BYTES = 20_000_000


class ModelNotFoundError(RuntimeError):
    """A configured model is missing. Raised at startup, naming what is missing."""


def resolve_model_path(reference: str, what: str) -> Path:
    """`package:NAME/sub/path` -> that path inside the installed package NAME; else a local path.

    The package's module is located, never imported: some model packages do work on import.
    """
    if reference.startswith(PACKAGE_PREFIX):
        package, _, sub_path = reference[len(PACKAGE_PREFIX) :].partition("/")
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            pip_name = package.replace("_", "-")
            raise ModelNotFoundError(
                f"{what} model package '{package}' is not installed "
                f"(pip install {pip_name}), configured as '{reference}'"
            )
        path = Path(next(iter(spec.submodule_search_locations))) / sub_path
    else:
        path = Path(reference).expanduser()
    if not path.exists():
        raise ModelNotFoundError(f"{what} model not found at {path} (configured as '{reference}')")
    return path


def model_files_digest(path: Path | None) -> str:
    """A short digest of a model folder: what tells one model's files from another's."""
    if path is None or not Path(path).is_dir():
        return ""
    digest = hashlib.sha256()
    for file in sorted(p for p in Path(path).rglob("*") if p.is_file()):
        relative = file.relative_to(path).as_posix()
        size = file.stat().st_size
        digest.update(f"{relative}\0{size}\0".encode())
        if file.suffix in _DESCRIPTIVE_SUFFIXES and size <= _MAX_DESCRIPTIVE_BYTES:
            digest.update(file.read_bytes())
    return digest.hexdigest()[:16]
