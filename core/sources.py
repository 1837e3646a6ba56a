"""Who is asking: the source that login lockouts and the API's bad-token limit count by.

The client's address is read by django-ipware, as django-axes reads it. TRUSTED_PROXY_COUNT
says how many reverse proxies stand in front of the app: with none (the default), only
REMOTE_ADDR counts and X-Forwarded-For, which anyone can write, is ignored; with N, the client
is the N-th X-Forwarded-For entry from the right (each proxy appends the address it saw, so the
entries a client wrote itself stay on the left).

A source is that address, except that an IPv6 address stands for its /64: one subscriber gets a
whole /64, so rotating addresses inside it must not buy fresh counts. The /64 is written as its
first address ("2001:db8:1:2::"), a valid address that axes can store like any other.
"""

from ipaddress import IPv6Address, ip_address, ip_network

from django.conf import settings
from ipware import get_client_ip

IPV6_PREFIX = 64
UNKNOWN = "0.0.0.0"  # noqa: S104  (a placeholder, never bound): no usable REMOTE_ADDR


def client_ip(request) -> str:
    """The client's address, behind TRUSTED_PROXY_COUNT trusted proxies."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        # The proxies' header only; strict=False: more entries than proxies is the usual case
        # (a client may send its own X-Forwarded-For), and they are on the left.
        ip, _ = get_client_ip(
            request,
            proxy_count=proxies - 1,  # ipware counts the proxies listed in the header
            request_header_order=["HTTP_X_FORWARDED_FOR"],
            strict=False,
        )
        if ip:
            return ip
    ip, _ = get_client_ip(request, request_header_order=["REMOTE_ADDR"], strict=False)
    return ip or UNKNOWN


def source_of(address: str) -> str:
    """An IPv4 address as it is; an IPv6 address as the first address of its /64."""
    try:
        parsed = ip_address(address)
    except ValueError:
        return UNKNOWN
    if isinstance(parsed, IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ip_network(f"{parsed}/{IPV6_PREFIX}", strict=False).network_address)
    return str(parsed)


def client_source(request) -> str:
    return source_of(client_ip(request))


def describe(source: str) -> str:
    """How a source reads to people: "2001:db8:1:2::/64", or the IPv4 address."""
    return f"{source}/{IPV6_PREFIX}" if ":" in source else source
