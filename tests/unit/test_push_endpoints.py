"""Which push endpoints the server may call, as a table of addresses and URLs (no network)."""

from __future__ import annotations

import ipaddress

import pytest

from backend.domain import push_endpoints as rules
from backend.errors import ValidationFailed

PUBLIC = ["8.8.8.8", "1.1.1.1", "2001:4860:4860::8888", "::ffff:8.8.8.8"]
# this machine, or multicast: not even on-premise
NEVER = ["0.0.0.0", "::", "224.0.0.1", "ff02::1"]  # noqa: S104
PRIVATE = [
    "127.0.0.1", "127.9.9.9", "::1", "::ffff:127.0.0.1", "10.0.0.1", "172.31.255.255", "192.168.0.1",
    "169.254.169.254", "fe80::1", "fc00::1", "100.64.0.1", "192.0.2.1",
]  # fmt: skip


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address: str) -> None:
    assert rules.address_allowed(ipaddress.ip_address(address), allow_private=False)


@pytest.mark.parametrize("address", PRIVATE)
def test_private_loopback_and_link_local_are_refused_unless_configured(address: str) -> None:
    assert not rules.address_allowed(ipaddress.ip_address(address), allow_private=False)
    assert rules.address_allowed(ipaddress.ip_address(address), allow_private=True)


@pytest.mark.parametrize("address", NEVER)
def test_unspecified_and_multicast_are_refused_even_when_private_is_allowed(address: str) -> None:
    assert not rules.address_allowed(ipaddress.ip_address(address), allow_private=True)


def test_plain_http_only_with_private_endpoints_allowed() -> None:
    with pytest.raises(ValidationFailed) as caught:
        rules.endpoint_target("http://127.0.0.1:9000/push/a", allow_private=False)
    assert caught.value.code == "push_endpoint_not_https"
    assert rules.endpoint_target("http://127.0.0.1:9000/push/a", allow_private=True) == ("127.0.0.1", 9000)
    assert rules.endpoint_target("https://fcm.googleapis.com/fcm/send/x", allow_private=False) == (
        "fcm.googleapis.com",
        443,
    )


def test_one_private_answer_among_public_ones_refuses_the_name() -> None:
    target = rules.endpoint_target("https://push.example/a", allow_private=False)
    rules.check_resolved(target, ["8.8.8.8", "2001:4860:4860::8888"], allow_private=False)
    with pytest.raises(ValidationFailed) as caught:
        rules.check_resolved(target, ["8.8.8.8", "10.0.0.7"], allow_private=False)
    assert caught.value.code == "push_endpoint_not_public"
    with pytest.raises(ValidationFailed) as caught:
        rules.check_resolved(target, [], allow_private=False)
    assert caught.value.code == "push_endpoint_unresolvable"
