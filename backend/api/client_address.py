"""Who is calling: the peer's address, or the client a trusted proxy names in X-Forwarded-For.

Anyone can send `X-Forwarded-For`, so it is believed only when the connection comes from a proxy listed in
CARETAKER_TRUSTED_PROXIES, and then only as far as the chain of trusted proxies goes: reading the header from
the right, the first address that is not a trusted proxy is the client (everything left of it was written by
the client itself and proves nothing). With no trusted proxies the header is ignored.

The HTTP server's own proxy-header handling must be off (`caretaker api` turns uvicorn's off), or the peer
address this module sees would already be whatever the header said.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any

from litestar.connection import ASGIConnection

FORWARDED_FOR = "X-Forwarded-For"
# What a connection without a peer address (a test transport, a Unix socket) counts as.
UNKNOWN = "unknown"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Sequence[str]) -> tuple[Network, ...]:
    """Addresses or CIDR blocks as networks; ValueError names the first bad one."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{value!r} is not an IP address or CIDR block") from None
    return tuple(networks)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    # an IPv4 client reaching an IPv6 socket shows up as ::ffff:a.b.c.d
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class ClientAddressResolver:
    """Resolves the client address of a request given the trusted proxies."""

    def __init__(self, trusted_proxies: Sequence[str] = ()) -> None:
        self.trusted = parse_networks(trusted_proxies)

    def _is_trusted(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return any(address in network for network in self.trusted)

    def resolve(self, peer: str | None, forwarded_for: Sequence[str]) -> str:
        """The client's address from the peer's and the X-Forwarded-For header values (in order)."""
        peer_address = _address(peer) if peer else None
        if peer_address is None:
            return peer or UNKNOWN
        if not self._is_trusted(peer_address):
            return str(peer_address)
        hops = [hop for value in forwarded_for for hop in value.split(",") if hop.strip()]
        client = peer_address
        for hop in reversed(hops):
            address = _address(hop)
            if address is None:
                # a trusted proxy passed on something that is not an address: the last good hop is all we know
                break
            client = address
            if not self._is_trusted(address):
                break
        return str(client)

    def of(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        """The client address of this request."""
        peer = connection.client.host if connection.client else None
        return self.resolve(peer, connection.headers.getall(FORWARDED_FOR, []))
