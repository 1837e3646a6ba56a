"""Fetching a web page to import, without letting the feature reach internal services or hold
a worker.

The host is resolved once and every address it resolves to must be public
(core.netsafety.is_public_address: no private, loopback, link-local or multicast address,
nor an IPv6 form hiding one) unless settings.KNOWLEDGE_FETCH_ALLOW_PRIVATE; the connection then
goes to that checked address, so a second DNS answer cannot swap it (DNS rebinding). Redirects
are followed by hand, each checked the same way.

One deadline (settings.KNOWLEDGE_FETCH_DEADLINE, 15 s) covers the whole fetch: the DNS lookups,
connections, TLS handshakes, requests, headers and bodies of every redirect. Each socket
operation waits at most settings.KNOWLEDGE_FETCH_TIMEOUT (a server that stops answering) and
never past the deadline, and a watchdog shuts the socket at the deadline, so a server that drips
a byte now and then (headers or body) is cut off on time too. The connection, the address rule
and the deadline are core.http's, shared with webhook deliveries.
"""

import codecs
import http.client
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

from core.http import Deadline, PrivateAddress, Refused, TooSlow, Watchdog, connect, read_body
from core.text import storable_text

from .models import TITLE_MAX, SourceKind
from .sources import Source

MAX_REDIRECTS = 3
URL_MAX = 2000
PAGE_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "text/markdown")


def _refuse(url: str, why: str) -> ValidationError:
    return ValidationError(f"{url[:200]}: {why}")


def _connection(url: str, deadline: Deadline, watchdog: Watchdog):
    """An open connection to the checked address (core.http), and the path."""
    try:
        return connect(
            url, deadline, watchdog, allow_private=settings.KNOWLEDGE_FETCH_ALLOW_PRIVATE
        )
    except PrivateAddress as exc:
        raise _refuse(url, f"{exc} Only public sites can be imported.") from None
    except Refused as exc:
        raise _refuse(url, str(exc)) from None


def _decode(url: str, data: bytes, charset: str | None) -> str:
    charset = (charset or "").strip() or "utf-8"
    try:
        codecs.getdecoder(charset)  # raises for unknown names and for bytes-only codecs
        text = data.decode(charset, errors="replace")
    except (LookupError, ValueError):
        raise _refuse(
            url, f"the page declares an unknown character set ({charset[:40]!r})."
        ) from None
    return storable_text(text)


def _fetch(url: str, deadline: Deadline) -> tuple[str, str, str]:
    limit = settings.KNOWLEDGE_FETCH_MAX_BYTES
    for _ in range(MAX_REDIRECTS + 1):
        conn = response = None
        try:
            with Watchdog(deadline) as watchdog:
                conn, path = _connection(url, deadline, watchdog)
                sock = conn.sock  # http.client drops conn.sock once a response will close
                sock.settimeout(deadline.timeout())
                conn.request("GET", path, headers={"User-Agent": "Playbook knowledge import"})
                sock.settimeout(deadline.timeout())
                response = conn.getresponse()
                deadline.remaining()  # headers the watchdog cut short can look complete
                if response.status in (301, 302, 303, 307, 308):
                    location = response.getheader("Location", "")
                    url = urljoin(url, location)
                    continue
                if response.status != 200:
                    raise _refuse(url, f"the site answered {response.status} {response.reason}.")
                kind = response.getheader("Content-Type", "").split(";")[0].strip().lower()
                if kind not in PAGE_TYPES:
                    raise _refuse(url, f"that is not a web page (it is {kind or 'of no type'}).")
                data = read_body(response, sock, limit, deadline)
        except (OSError, http.client.HTTPException) as exc:
            deadline.remaining()  # the watchdog's cut, or a timeout, at the deadline
            raise _refuse(url, f"the page could not be fetched ({exc}).") from None
        finally:
            if response is not None:
                response.close()  # a body left unread (a redirect's, one too big) holds the socket
            if conn is not None:
                conn.close()
        if len(data) > limit:
            raise _refuse(url, f"the page is larger than {limit // 1024 // 1024} MB.")
        return url, kind, _decode(url, data, response.headers.get_content_charset())
    raise _refuse(url, "too many redirects.")


def fetch(url: str) -> tuple[str, str, str]:
    """(final url, content type, text) of a page: refused when too big, slow or not text."""
    url = (url or "").strip()
    if len(url) > URL_MAX:
        raise ValidationError("That web address is too long.")
    deadline = Deadline(settings.KNOWLEDGE_FETCH_DEADLINE, settings.KNOWLEDGE_FETCH_TIMEOUT)
    try:
        return _fetch(url, deadline)
    except TooSlow:
        raise _refuse(
            url,
            f"the page took longer than {deadline.seconds:g} s to fetch; nothing was imported.",
        ) from None


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
    text = text.strip()
    if not text:
        raise _refuse(final, "no main text was found on that page.")
    title = " ".join(title.split()) or urlsplit(final).hostname or final
    return Source(SourceKind.URL, final, title[:TITLE_MAX], text)
