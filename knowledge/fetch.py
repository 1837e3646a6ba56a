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
a byte now and then (headers or body) is cut off on time too.
"""

import codecs
import http.client
import socket
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

from core.netsafety import is_public_address
from core.text import storable_text

from .models import TITLE_MAX, SourceKind
from .sources import Source

MAX_REDIRECTS = 3
URL_MAX = 2000
_CHUNK = 64 * 1024
PAGE_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "text/markdown")
# getaddrinfo() takes no timeout: lookups run here and the fetch stops waiting at the deadline.
# A stuck lookup keeps its thread until the resolver gives up; a few threads bound that.
_RESOLVER = ThreadPoolExecutor(max_workers=4, thread_name_prefix="knowledge-fetch-dns")


def _refuse(url: str, why: str) -> ValidationError:
    return ValidationError(f"{url[:200]}: {why}")


class _TooSlow(Exception):
    pass


class _Deadline:
    """One monotonic deadline for a whole fetch."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self.expired = False  # set by the watchdog when it cut a connection

    def remaining(self) -> float:
        left = self.end - time.monotonic()
        if left <= 0 or self.expired:
            raise _TooSlow
        return left

    def timeout(self) -> float:
        """The wait allowed for the next socket operation."""
        return min(settings.KNOWLEDGE_FETCH_TIMEOUT, self.remaining())


class _Watchdog:
    """Shuts the watched socket at the deadline, whatever it is waiting for: per-operation
    timeouts alone let a server that drips a byte at a time (headers, TLS, body) run on."""

    def __init__(self, deadline: _Deadline):
        self.deadline = deadline
        self.sock = None
        self._lock = threading.Lock()
        self._done = False
        self._timer = threading.Timer(deadline.remaining(), self._cut)
        self._timer.daemon = True

    def _cut(self):
        with self._lock:  # never after __exit__: the socket may be closed and its fd reused
            if self._done:
                return
            self.deadline.expired = True
            if self.sock is not None:
                try:
                    # The plain socket's shutdown, also under TLS: it wakes a blocked read.
                    socket.socket.shutdown(self.sock, socket.SHUT_RDWR)
                except OSError:
                    pass

    def __enter__(self):
        self._timer.start()
        return self

    def __exit__(self, *exc):
        with self._lock:
            self._done = True
        self._timer.cancel()


def _checked_address(url: str, host: str, port: int, deadline: _Deadline) -> str:
    lookup = _RESOLVER.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        infos = lookup.result(timeout=deadline.remaining())
    except FutureTimeout:
        raise _TooSlow from None
    except (OSError, UnicodeError, ValueError):
        raise _refuse(url, "the host name does not resolve.") from None
    addresses = [info[4][0] for info in infos]
    if not addresses:
        raise _refuse(url, "the host name does not resolve.")
    if not settings.KNOWLEDGE_FETCH_ALLOW_PRIVATE:
        for address in addresses:
            if not is_public_address(address):
                raise _refuse(
                    url,
                    f"the address {address} is private, loopback or link-local (or hides one "
                    "inside an IPv6 address); only public sites can be imported.",
                )
    return addresses[0]


def _connection(url: str, deadline: _Deadline, watchdog: _Watchdog):
    """An open connection (TLS handshake done) to the checked address, and the path."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _refuse(url, "only http:// and https:// web addresses can be imported.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise _refuse(url, "the port is not valid.") from None
    address = _checked_address(url, parts.hostname, port, deadline)
    # Connect to the address checked above; TLS still verifies the host name.
    sock = socket.create_connection((address, port), timeout=deadline.timeout())
    watchdog.sock = sock
    if parts.scheme == "https":
        context = ssl.create_default_context()
        try:
            sock = context.wrap_socket(
                sock, server_hostname=parts.hostname, do_handshake_on_connect=False
            )
            watchdog.sock = sock
            sock.settimeout(deadline.timeout())
            sock.do_handshake()
        except BaseException:
            sock.close()
            raise
        conn = http.client.HTTPSConnection(parts.hostname, port, context=context)
    else:
        conn = http.client.HTTPConnection(parts.hostname, port)
    conn.sock = sock  # already connected: http.client does not connect again
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return conn, path


def _read_body(response, sock, limit: int, deadline: _Deadline) -> bytes:
    chunks, size = [], 0
    while size <= limit and not response.isclosed():  # closed: the whole body was read
        sock.settimeout(deadline.timeout())
        chunk = response.read(min(_CHUNK, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    deadline.remaining()  # a read the watchdog cut short ends like a finished body
    return b"".join(chunks)


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


def _fetch(url: str, deadline: _Deadline) -> tuple[str, str, str]:
    limit = settings.KNOWLEDGE_FETCH_MAX_BYTES
    for _ in range(MAX_REDIRECTS + 1):
        conn = response = None
        try:
            with _Watchdog(deadline) as watchdog:
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
                data = _read_body(response, sock, limit, deadline)
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
    deadline = _Deadline(settings.KNOWLEDGE_FETCH_DEADLINE)
    try:
        return _fetch(url, deadline)
    except _TooSlow:
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
