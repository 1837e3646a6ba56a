"""Outbound HTTP on a user's behalf (a knowledge import's web page, a webhook delivery), without
letting it reach internal services or hold a worker.

The host is resolved once and every address it resolves to must be public
(core.netsafety.is_public_address) unless the caller allows private addresses; the connection
then goes to that checked address, so a second DNS answer cannot swap it (DNS rebinding).

One Deadline covers a whole exchange: the DNS lookup, connection, TLS handshake, request,
headers and body (and, for a caller that follows redirects, every hop). Each socket operation
waits at most the caller's per-operation timeout and never past the deadline, and a Watchdog
shuts the socket at the deadline, so a server that drips a byte now and then is cut off on time.
"""

import http.client
import socket
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from urllib.parse import urlsplit

from .netsafety import is_public_address

_CHUNK = 64 * 1024
# getaddrinfo() takes no timeout: lookups run here and the caller stops waiting at the deadline.
# A stuck lookup keeps its thread until the resolver gives up; a few threads bound that.
_RESOLVER = ThreadPoolExecutor(max_workers=4, thread_name_prefix="outbound-dns")


class Refused(Exception):
    """The URL may not be fetched; str() is the reason, a sentence ending with a full stop."""


class PrivateAddress(Refused):
    """The host resolves to an address that is not public (see core.netsafety)."""

    def __init__(self, address: str):
        self.address = address
        super().__init__(
            f"the address {address} is private, loopback or link-local (or hides one inside an "
            "IPv6 address)."
        )


class TooSlow(Exception):
    """The deadline passed."""


class Deadline:
    """One monotonic deadline for a whole exchange; `timeout` caps each socket wait."""

    def __init__(self, seconds: float, timeout: float | None = None):
        self.seconds = seconds
        self.per_operation = timeout if timeout is not None else seconds
        self.end = time.monotonic() + seconds
        self.expired = False  # set by the watchdog when it cut a connection

    def remaining(self) -> float:
        left = self.end - time.monotonic()
        if left <= 0 or self.expired:
            raise TooSlow
        return left

    def timeout(self) -> float:
        """The wait allowed for the next socket operation."""
        return min(self.per_operation, self.remaining())


class Watchdog:
    """Shuts the watched socket at the deadline, whatever it is waiting for: per-operation
    timeouts alone let a server that drips a byte at a time (headers, TLS, body) run on."""

    def __init__(self, deadline: Deadline):
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


def checked_address(host: str, port: int, deadline: Deadline, *, allow_private: bool) -> str:
    """The address to connect to: every address `host` resolves to must be public."""
    lookup = _RESOLVER.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        infos = lookup.result(timeout=deadline.remaining())
    except FutureTimeout:
        raise TooSlow from None
    except (OSError, UnicodeError, ValueError):
        raise Refused("the host name does not resolve.") from None
    addresses = [info[4][0] for info in infos]
    if not addresses:
        raise Refused("the host name does not resolve.")
    if not allow_private:
        for address in addresses:
            if not is_public_address(address):
                raise PrivateAddress(address)
    return addresses[0]


def split_url(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an http(s) URL; Refused for anything else."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused("only http:// and https:// addresses can be used.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise Refused("the port is not valid.") from None
    return parts.scheme, parts.hostname, port


def connect(url: str, deadline: Deadline, watchdog: Watchdog, *, allow_private: bool):
    """An open connection (TLS handshake done) to the checked address, and the path."""
    scheme, host, port = split_url(url)
    parts = urlsplit(url)
    address = checked_address(host, port, deadline, allow_private=allow_private)
    # Connect to the address checked above; TLS still verifies the host name.
    sock = socket.create_connection((address, port), timeout=deadline.timeout())
    watchdog.sock = sock
    if scheme == "https":
        context = ssl.create_default_context()
        try:
            sock = context.wrap_socket(sock, server_hostname=host, do_handshake_on_connect=False)
            watchdog.sock = sock
            sock.settimeout(deadline.timeout())
            sock.do_handshake()
        except BaseException:
            sock.close()
            raise
        conn = http.client.HTTPSConnection(host, port, context=context)
    else:
        conn = http.client.HTTPConnection(host, port)
    conn.sock = sock  # already connected: http.client does not connect again
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return conn, path


def read_body(response, sock, limit: int, deadline: Deadline) -> bytes:
    """At most limit + 1 bytes of the body (one more than allowed tells the caller it is too
    big), within the deadline."""
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


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    deadline: Deadline,
    allow_private: bool,
    limit: int = 4096,
) -> tuple[int, bytes]:
    """POST `body`; (status, the first `limit` bytes of the answer). No redirect is followed:
    a 3xx is returned like any other status. Raises Refused, TooSlow, or OSError /
    http.client.HTTPException for a connection that failed."""
    conn = response = None
    try:
        with Watchdog(deadline) as watchdog:
            conn, path = connect(url, deadline, watchdog, allow_private=allow_private)
            sock = conn.sock  # http.client drops conn.sock once a response will close
            sock.settimeout(deadline.timeout())
            conn.request("POST", path, body=body, headers=headers)
            sock.settimeout(deadline.timeout())
            response = conn.getresponse()
            deadline.remaining()  # headers the watchdog cut short can look complete
            data = read_body(response, sock, limit, deadline)
            return response.status, data[:limit]
    except (OSError, http.client.HTTPException):
        deadline.remaining()  # the watchdog's cut, or a timeout, at the deadline: TooSlow
        raise
    finally:
        if response is not None:
            response.close()
        if conn is not None:
            conn.close()
