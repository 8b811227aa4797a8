"""Records the connections a block of code tries to open outside this machine (an audit hook on
socket.connect, getaddrinfo and sendto; loopback and Unix sockets are local)."""

from __future__ import annotations

import ipaddress
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager

_connections: list[tuple] = []
_recording = False


def _audit(event: str, args: tuple) -> None:
    if _recording and event in ("socket.connect", "socket.getaddrinfo", "socket.sendto"):
        _connections.append((event, args))


# An audit hook cannot be removed: it records only while `_recording` is set.
sys.addaudithook(_audit)


@contextmanager
def recorded_connections() -> Iterator[list[tuple]]:
    """Every connection attempt inside the block, as (event, args)."""
    global _recording
    _connections.clear()
    seen: list[tuple] = []
    _recording = True
    try:
        yield seen
    finally:
        _recording = False
        seen.extend(_connections)


def outside(connections: list[tuple]) -> list[tuple]:
    """The attempts that would leave this machine."""
    return [(event, args[1:]) for event, args in connections if not _is_local(event, args)]


def _is_local(event: str, args: tuple) -> bool:
    if event == "socket.getaddrinfo":
        host = args[0]
        return host in (None, "localhost") or _is_loopback(host)
    sock, address = args[0], args[1]
    if sock.family == socket.AF_UNIX:
        return True
    return _is_loopback(address[0])


def _is_loopback(host) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
