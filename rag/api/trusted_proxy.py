"""Whether a request comes straight from the reverse proxy the config trusts.

The address is the TCP peer (`rag serve` runs uvicorn without proxy headers, so no
X-Forwarded-For can stand in for it).
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from fastapi import Request


@lru_cache(maxsize=32)
def _networks(cidrs: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def from_trusted_proxy(request: Request, cidrs: list[str]) -> bool:
    host = request.client.host if request.client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False  # no address, or a name: not a proxy we know
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address in network for network in _networks(tuple(cidrs)))
