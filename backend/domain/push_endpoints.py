"""Which Web Push endpoints the server may POST to: https on the public internet, never its own network.

A push subscription is a URL the browser hands us and the server later calls. Left unchecked, anyone
signed in could make the server POST to 127.0.0.1, the cloud metadata service at 169.254.169.254 or a
database on the office LAN. The rule is applied twice: to the URL's host as written (an IP literal) and to
every address its name resolves to, when it is stored and again before each send (the name may have been
re-pointed since). `allow_private` lifts it for tests and on-premise push services.
"""

from __future__ import annotations

import ipaddress
from typing import NamedTuple
from urllib.parse import urlsplit

from backend.errors import ValidationFailed

MAX_ENDPOINT_LENGTH = 2000

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class EndpointTarget(NamedTuple):
    """The host and port a push endpoint URL points at."""

    host: str
    port: int


def _refused(detail: str, code: str) -> ValidationFailed:
    return ValidationFailed(detail, field="endpoint", code=code)


def address_allowed(address: IPAddress, *, allow_private: bool) -> bool:
    """True when the server may connect to this address for a push."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        # ::ffff:127.0.0.1 is 127.0.0.1 to the kernel
        address = address.ipv4_mapped
    if address.is_unspecified or address.is_multicast:
        return False  # 0.0.0.0 reaches this machine; multicast is never a push service
    return allow_private or address.is_global


def endpoint_target(endpoint: str, *, allow_private: bool) -> EndpointTarget:
    """Check the URL itself (scheme, host, an IP literal's range); the host and port to resolve next."""
    try:
        parts = urlsplit(endpoint)
        port = parts.port
    except ValueError:
        raise _refused("endpoint must be a push service URL", "push_endpoint_invalid") from None
    host = parts.hostname
    if len(endpoint) > MAX_ENDPOINT_LENGTH or not host or parts.username or parts.password:
        raise _refused("endpoint must be a push service URL", "push_endpoint_invalid")
    literal = _ip_literal(host)
    if parts.scheme != "https" and not (parts.scheme == "http" and allow_private):
        raise _refused("endpoint must be an https URL", "push_endpoint_not_https")
    if literal is not None and not address_allowed(literal, allow_private=allow_private):
        raise _refused(
            f"endpoint points at {literal}, a private, loopback or link-local address",
            "push_endpoint_not_public",
        )
    return EndpointTarget(host, port or (443 if parts.scheme == "https" else 80))


def check_resolved(target: EndpointTarget, addresses: list[str], *, allow_private: bool) -> None:
    """Refuse a host that resolves to nothing, or to any address the server must not call."""
    if not addresses:
        raise _refused(
            f"the push service host {target.host} cannot be resolved", "push_endpoint_unresolvable"
        )
    for text in addresses:
        address = ipaddress.ip_address(text.split("%", 1)[0])  # drop an IPv6 zone id
        # every address counts: a client may connect to any of them, so one private answer is enough to refuse
        if not address_allowed(address, allow_private=allow_private):
            raise _refused(
                f"the push service host {target.host} resolves to {address}, a private, loopback or "
                "link-local address",
                "push_endpoint_not_public",
            )


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None
