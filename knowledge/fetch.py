"""Fetching a web page to import, without letting the feature reach internal services.

The host is resolved once and every address it resolves to must be public (not private,
loopback, link-local, multicast or reserved) unless settings.KNOWLEDGE_FETCH_ALLOW_PRIVATE;
the connection then goes to that checked address, so a second DNS answer cannot swap it
(DNS rebinding). Redirects are followed by hand, each checked the same way.
"""

import http.client
import ipaddress
import socket
import ssl
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

from .models import TITLE_MAX, SourceKind
from .sources import Source

MAX_REDIRECTS = 3
URL_MAX = 2000


def _refuse(url: str, why: str) -> ValidationError:
    return ValidationError(f"{url[:200]}: {why}")


def _checked_address(url: str, host: str, port: int) -> str:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise _refuse(url, "the host name does not resolve.") from None
    addresses = [info[4][0] for info in infos]
    if not settings.KNOWLEDGE_FETCH_ALLOW_PRIVATE:
        for address in addresses:
            ip = ipaddress.ip_address(address.split("%")[0])
            if not ip.is_global or ip.is_multicast:
                raise _refuse(
                    url, "the address is private, loopback or link-local; only public sites."
                )
    return addresses[0]


def _connection(url: str):
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _refuse(url, "only http:// and https:// web addresses can be imported.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise _refuse(url, "the port is not valid.") from None
    address = _checked_address(url, parts.hostname, port)
    timeout = settings.KNOWLEDGE_FETCH_TIMEOUT
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(
            parts.hostname, port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        conn = http.client.HTTPConnection(parts.hostname, port, timeout=timeout)
    # Connect to the address checked above; TLS still verifies the host name.
    conn._create_connection = lambda _addr, *a, **kw: socket.create_connection(
        (address, port), *a, **kw
    )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return conn, path


def fetch(url: str) -> tuple[str, str, str]:
    """(final url, content type, text) of a page: refused when too big, slow or not text."""
    url = (url or "").strip()
    if len(url) > URL_MAX:
        raise ValidationError("That web address is too long.")
    limit = settings.KNOWLEDGE_FETCH_MAX_BYTES
    for _ in range(MAX_REDIRECTS + 1):
        conn, path = _connection(url)
        try:
            conn.request("GET", path, headers={"User-Agent": "Playbook knowledge import"})
            response = conn.getresponse()
            if response.status in (301, 302, 303, 307, 308):
                location = response.getheader("Location", "")
                url = urljoin(url, location)
                continue
            if response.status != 200:
                raise _refuse(url, f"the site answered {response.status} {response.reason}.")
            kind = response.getheader("Content-Type", "").split(";")[0].strip().lower()
            if kind not in ("text/html", "application/xhtml+xml", "text/plain", "text/markdown"):
                raise _refuse(url, f"that is not a web page (it is {kind or 'of no type'}).")
            data = response.read(limit + 1)
        except (OSError, http.client.HTTPException) as exc:
            raise _refuse(url, f"the page could not be fetched ({exc}).") from None
        finally:
            conn.close()
        if len(data) > limit:
            raise _refuse(url, f"the page is larger than {limit // 1024 // 1024} MB.")
        charset = response.headers.get_content_charset() or "utf-8"
        return url, kind, data.decode(charset, errors="replace")
    raise _refuse(url, "too many redirects.")


def extract_url(url: str) -> Source:
    """The main text of a web page, as a source to import."""
    import trafilatura

    final, kind, raw = fetch(url)
    if kind in ("text/plain", "text/markdown"):
        text, title = raw, ""
    else:
        text = trafilatura.extract(raw, include_comments=False, include_tables=True) or ""
        meta = trafilatura.extract_metadata(raw)
        title = (meta.title if meta else "") or ""
    text = text.replace("\x00", "").strip()
    if not text:
        raise _refuse(final, "no main text was found on that page.")
    title = " ".join(title.split()) or urlsplit(final).hostname or final
    return Source(SourceKind.URL, final, title[:TITLE_MAX], text)
