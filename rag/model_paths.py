"""Resolve a configured model reference to a local file or folder, never to a hub download."""

from __future__ import annotations

import importlib.util
from pathlib import Path

PACKAGE_PREFIX = "package:"


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
