"""Reading a source's files without leaving its folder.

A file is read only when the file actually opened lies inside the source's root: the check runs
on the open descriptor (its real path, as the kernel names it), not on the path that was
scanned, so a symbolic link swapped in after the scan is refused as well. Links that stay
inside the folder are followed like any file.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

OUTSIDE_ROOT = "refused: a symbolic link to a file outside the source folder"
HASH_BLOCK = 1 << 20


class OutsideRoot(OSError):
    """The file's real location is outside its source folder: it is never read."""

    def __str__(self) -> str:
        return OUTSIDE_ROOT


class NotARegularFile(OSError):
    def __str__(self) -> str:
        return "not a regular file (a folder, device or pipe)"


class FileChanged(OSError):
    """Size or mtime moved while the file was read."""


@dataclass(frozen=True)
class FileContents:
    data: bytes
    size_bytes: int
    mtime_ns: int


def lies_inside(root: Path, path: Path) -> bool:
    """Whether `path`, all links followed, is below `root`."""
    return Path(os.path.realpath(path)).is_relative_to(os.path.realpath(root))


def read_inside(root: Path, path: Path) -> FileContents:
    """The bytes of `path`, read through a descriptor checked by `open_inside`. Size and mtime
    are the opened file's, taken before and after reading: FileChanged when they differ."""
    with open_inside(root, path) as handle:
        before = os.fstat(handle.fileno())
        data = handle.read()
        after = os.fstat(handle.fileno())
    if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns):
        raise FileChanged("file changed while being read")
    return FileContents(data, after.st_size, after.st_mtime_ns)


def sha256_inside(root: Path, path: Path) -> str:
    digest = hashlib.sha256()
    with open_inside(root, path) as handle:
        while block := handle.read(HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


@contextmanager
def open_inside(root: Path, path: Path) -> Iterator:
    """`path` opened for reading, once the opened file is known to be a regular file below
    `root`; OutsideRoot or NotARegularFile otherwise."""
    # O_NONBLOCK: a FIFO put in place of the file must not hang the scan (refused below).
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        if not _opened_path(fd, path).is_relative_to(os.path.realpath(root)):
            raise OutsideRoot(OUTSIDE_ROOT)
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotARegularFile
        handle = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with handle:
        yield handle


def _opened_path(fd: int, path: Path) -> Path:
    """The real path of the file behind `fd`. Linux names it in /proc; elsewhere the path is
    resolved and must be the same file (device and inode) as the one opened."""
    try:
        return Path(os.readlink(f"/proc/self/fd/{fd}"))
    except OSError:
        real = Path(os.path.realpath(path))
        opened, named = os.fstat(fd), os.stat(real)
        if (opened.st_dev, opened.st_ino) != (named.st_dev, named.st_ino):
            raise OutsideRoot(OUTSIDE_ROOT) from None  # swapped while being resolved
        return real


class FileChangedWhileReading(OSError):
    """The file still changed after being read twice (it is being written?)."""


def read_failure_reason(exc: OSError) -> str:
    """Why a file could not be read, as its document records it (no path, no contents)."""
    if isinstance(exc, OutsideRoot | NotARegularFile):
        return str(exc)
    if isinstance(exc, FileChangedWhileReading):
        return f"{exc}; the next scan will try again"
    if isinstance(exc, PermissionError):
        return "permission denied: the service cannot read this file"
    if isinstance(exc, FileNotFoundError):
        return "file disappeared while being read"
    return f"could not read file ({exc.strerror or type(exc).__name__})"
