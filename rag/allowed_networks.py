"""Which model-server addresses the config accepts, so a typo cannot send documents outside.

A base URL's host must be an IP address inside one of `allowed_networks`, or a host name listed
in `allowed_hosts`. Host names are never resolved here: resolving one is itself a network call
(to a DNS server that may be outside), and the answer could change after the check. So an
internal server known by name is accepted only when an admin lists that name.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


def parse_networks(networks: list[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    parsed = []
    for network in networks:
        try:
            parsed.append(ipaddress.ip_network(network, strict=False))
        except ValueError as exc:
            raise ValueError(
                f"llm.server.allowed_networks: '{network}' is not a network "
                "(write it like 10.0.0.0/8 or fc00::/7)"
            ) from exc
    return parsed


def check_base_url(base_url: str, allowed_networks: list[str], allowed_hosts: list[str]) -> None:
    """Raise ValueError, saying why, unless `base_url` points inside the allowed networks."""
    networks = parse_networks(allowed_networks)
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https"):
        raise ValueError(
            f"llm.server.base_url must start with http:// or https://, got '{base_url}'"
        )
    if parts.username or parts.password:
        raise ValueError("llm.server.base_url must not hold credentials: use llm.server.api_key")
    host = (parts.hostname or "").lower()
    if not host:
        raise ValueError(f"llm.server.base_url has no host: '{base_url}'")
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise ValueError(f"llm.server.base_url has an invalid port: '{base_url}'") from exc
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if host in {h.lower() for h in allowed_hosts}:
            return
        raise ValueError(
            f"llm.server.base_url host '{host}' is not an IP address and not listed in "
            "llm.server.allowed_hosts. Host names are not resolved to check them (that would "
            "itself be a network call): list the name there if it is your own server, or use "
            "its IP address."
        ) from None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if not any(address in network for network in networks):
        allowed = ", ".join(allowed_networks) or "none"
        raise ValueError(
            f"llm.server.base_url address {address} is outside llm.server.allowed_networks "
            f"({allowed}): documents would leave the company network. Add its network there "
            "if the server really is yours."
        )
