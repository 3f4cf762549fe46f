"""Whose address a request is: X-Forwarded-For is believed only from trusted proxies, from the right."""

from __future__ import annotations

import pytest

from backend.api.client_address import ClientAddressResolver, parse_networks

PROXIES = ("10.0.0.0/8", "2001:db8::1")


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        # an untrusted peer's header is its own claim, and ignored
        ("198.51.100.7", ["1.2.3.4"], "198.51.100.7"),
        # a trusted proxy names the client it saw
        ("10.0.0.5", ["198.51.100.7"], "198.51.100.7"),
        # what the client wrote itself sits left of what our proxy appended
        ("10.0.0.5", ["1.2.3.4, 198.51.100.7"], "198.51.100.7"),
        ("10.0.0.5", ["1.2.3.4", "198.51.100.7"], "198.51.100.7"),
        # a chain of our proxies is walked through
        ("10.0.0.5", ["1.2.3.4, 198.51.100.7, 10.1.1.1"], "198.51.100.7"),
        # garbage from the chain: the last good hop is all we know
        ("10.0.0.5", ["198.51.100.7, not-an-ip"], "10.0.0.5"),
        ("10.0.0.5", ["nonsense, 10.1.1.1"], "10.1.1.1"),
        # a trusted proxy with nothing to say
        ("10.0.0.5", [], "10.0.0.5"),
        ("2001:db8::1", ["2001:db8::99"], "2001:db8::99"),
        # an IPv4 client on an IPv6 socket
        ("::ffff:198.51.100.7", ["1.2.3.4"], "198.51.100.7"),
        ("::ffff:10.0.0.5", ["198.51.100.7"], "198.51.100.7"),
        # a transport without an address
        ("testclient", ["1.2.3.4"], "testclient"),
        (None, ["1.2.3.4"], "unknown"),
    ],
)
def test_client_address(peer: str | None, forwarded: list[str], client: str) -> None:
    assert ClientAddressResolver(PROXIES).resolve(peer, forwarded) == client


def test_with_no_trusted_proxies_the_header_is_never_believed() -> None:
    resolver = ClientAddressResolver()
    assert resolver.resolve("127.0.0.1", ["198.51.100.7"]) == "127.0.0.1"


def test_bad_proxy_entries_are_named() -> None:
    with pytest.raises(ValueError, match=r"10\.0\.0\.300"):
        parse_networks(["10.0.0.1", "10.0.0.300"])
