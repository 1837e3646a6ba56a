"""The one rule for addresses the server may connect to on a user's behalf (SSRF).

Importing a web page (knowledge/fetch.py) asks it for every address a host resolves to;
webhooks will ask it too. An address is public when it is globally reachable unicast: not
private, loopback, link-local, site-local, multicast, unspecified or reserved. IPv6 forms that
carry an IPv4 address inside are judged by that IPv4 address as well, since the packets end up
there:
- IPv4-mapped ``::ffff:a.b.c.d`` and NAT64 ``64:ff9b::a.b.c.d`` (RFC 6052) are translated to
  the IPv4 address: they are judged by it alone, so ``64:ff9b::8.8.8.8`` is public and
  ``64:ff9b::127.0.0.1`` is not;
- 6to4 ``2002:abcd:ef01::/48`` and Teredo ``2001:0::/32`` tunnel to IPv4 hosts: the IPv6
  address and every IPv4 address inside it (6to4 gateway; Teredo server and client) must be
  public.
Refused outright: IPv4-compatible ``::a.b.c.d`` (deprecated by RFC 4291, never a real host)
and the local-use NAT64 prefix ``64:ff9b:1::/48`` (RFC 8215: a site's own translator, whose
mapping this module cannot know).
"""

import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")


def _is_global_unicast(ip: IPAddress) -> bool:
    return ip.is_global and not (
        ip.is_multicast
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_unspecified
        or ip.is_reserved
        or (ip.version == 6 and ip.is_site_local)
    )


def is_public_address(address: str | IPAddress) -> bool:
    """Whether the server may connect to `address` (a string such as getaddrinfo returns, with
    an optional %scope, or an ipaddress object). Unparseable input is not public."""
    try:
        ip = ipaddress.ip_address(address.split("%")[0] if isinstance(address, str) else address)
    except ValueError:
        return False
    if ip.version == 4:
        return _is_global_unicast(ip)
    if ip in _IPV4_COMPATIBLE or ip in _NAT64_LOCAL:  # :: and ::1 are in ::/96 too
        return False
    if ip.ipv4_mapped is not None:
        return _is_global_unicast(ip.ipv4_mapped)
    if ip in _NAT64:
        return _is_global_unicast(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    tunnelled = [ip.sixtofour] if ip.sixtofour is not None else list(ip.teredo or ())
    return _is_global_unicast(ip) and all(_is_global_unicast(v4) for v4 in tunnelled)
