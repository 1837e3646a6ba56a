"""Who is asking: the client address that login lockouts and the API's rate limit count by.

Behind a reverse proxy REMOTE_ADDR is the proxy. X-Forwarded-For is then read from the right:
each trusted proxy appends the address it saw, so the right-most hop that is not a trusted proxy
is the first one a client could not forge. Without TRUSTED_PROXIES the header is ignored.
"""

from functools import lru_cache
from ipaddress import ip_address, ip_network

from django.conf import settings


@lru_cache(maxsize=8)
def _networks(trusted: tuple[str, ...]):
    return tuple(ip_network(entry.strip(), strict=False) for entry in trusted)


def _trusted(address: str, networks) -> bool:
    try:
        parsed = ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in networks)


def client_address(meta) -> str:
    """The client's address from request.META (or a WSGI environ)."""
    remote = meta.get("REMOTE_ADDR") or ""
    if not settings.TRUSTED_PROXIES:
        return remote
    networks = _networks(tuple(settings.TRUSTED_PROXIES))
    if not _trusted(remote, networks):
        return remote
    hops = [hop.strip() for hop in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    client = remote
    for hop in reversed(hops):
        try:
            ip_address(hop)
        except ValueError:
            break  # garbage a client wrote: the hop to its right is the last one we can trust
        client = hop
        if not _trusted(hop, networks):
            break
    return client
