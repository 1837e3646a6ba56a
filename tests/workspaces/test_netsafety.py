"""The address rule for server-side requests (SSRF), which imports and webhooks share."""

import ipaddress

import pytest

from core.netsafety import is_public_address

REFUSED = [
    # NAT64 (RFC 6052 well-known prefix) of loopback, private and metadata addresses.
    "64:ff9b::7f00:1",
    "64:ff9b::a00:1",
    "64:ff9b::c0a8:101",
    "64:ff9b::a9fe:a9fe",
    # The local-use NAT64 prefix (RFC 8215): a site's own translator.
    "64:ff9b:1::808:808",
    # 6to4 of 127.0.0.1, 10.0.0.1, 192.168.1.1.
    "2002:7f00:1::",
    "2002:a00:1::1",
    "2002:c0a8:101::",
    # Teredo: private server, private (obfuscated) client, and public both (2001::/32 is
    # not globally reachable in the first place).
    "2001:0:a00:1::f5ff:fffe",
    "2001:0:808:808::3f57:fefe",
    "2001:0:808:808::f7f7:f7f7",
    # IPv4-mapped and IPv4-compatible.
    "::ffff:127.0.0.1",
    "::ffff:10.1.2.3",
    "::ffff:169.254.169.254",
    "::127.0.0.1",
    "::8.8.8.8",
    # Plain non-global IPv6 and IPv4.
    "fc00::1",
    "fd12:3456::1",
    "fe80::1",
    "fe80::1%eth0",
    "fec0::1",
    "::1",
    "::",
    "ff02::1",
    "ff0e::1",
    "2001:db8::1",
    "100::1",
    "127.0.0.1",
    "10.0.0.1",
    "172.16.0.1",
    "192.168.0.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "not an address",
]
ALLOWED = [
    "2606:4700:4700::1111",
    "2a00:1450:4001:82b::200e",
    "64:ff9b::808:808",  # NAT64 of 8.8.8.8
    "::ffff:8.8.8.8",
    "8.8.8.8",
    "1.1.1.1",
]


@pytest.mark.parametrize("address", REFUSED)
def test_non_public_addresses_and_ipv6_forms_hiding_one_are_refused(address):
    assert not is_public_address(address)


@pytest.mark.parametrize("address", ALLOWED)
def test_public_addresses_are_allowed(address):
    assert is_public_address(address)
    assert is_public_address(ipaddress.ip_address(address))


def test_the_teredo_examples_carry_the_addresses_named():
    assert ipaddress.ip_address("2001:0:a00:1::f5ff:fffe").teredo[0] == ipaddress.ip_address(
        "10.0.0.1"
    )
    assert ipaddress.ip_address("2001:0:808:808::3f57:fefe").teredo[1] == ipaddress.ip_address(
        "192.168.1.1"
    )
