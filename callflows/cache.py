"""The runtime's cache of live configurations.

Two levels, so a shared cache (Redis) moves only a few bytes per request:
- per phone number, a small entry: (workspace id, body digest or error text, has body);
  this is what publish, rollback and job edits delete;
- per body digest, the JSON body and its gzip; content-addressed, so copies never go stale
  and each process also keeps the most recent ones in memory.
"""

import threading
from collections import OrderedDict

from django.core.cache import cache

CONFIG_PREFIX = "live-config:v2:"
BODY_PREFIX = "live-body:v2:"
CONFIG_SECONDS = 300
BODY_SECONDS = 24 * 3600
LOCAL_BODIES = 64

_bodies: OrderedDict[str, tuple[bytes, bytes]] = OrderedDict()
_bodies_lock = threading.Lock()


def key(number: str) -> str:
    return CONFIG_PREFIX + number


def _remember(digest: str, body: tuple[bytes, bytes]) -> None:
    with _bodies_lock:
        _bodies[digest] = body
        _bodies.move_to_end(digest)
        while len(_bodies) > LOCAL_BODIES:
            _bodies.popitem(last=False)


def _body(digest: str) -> tuple[bytes, bytes] | None:
    with _bodies_lock:
        body = _bodies.get(digest)
    if body is None:
        body = cache.get(BODY_PREFIX + digest)
        if body is not None:
            _remember(digest, body)
    return body


def entry(meta):
    """The full entry (workspace id, body, digest or error, gzip body) for a cached small
    entry, or None when it must be rebuilt (not cached, or its body expired)."""
    if meta is None:
        return None
    workspace_id, digest_or_error, has_body = meta
    if not has_body:
        return (workspace_id, None, digest_or_error, None)
    body = _body(digest_or_error)
    if body is None:
        return None
    return (workspace_id, body[0], digest_or_error, body[1])


def put(number: str, full_entry) -> None:
    workspace_id, body, digest_or_error, compressed = full_entry
    if body is not None:
        _remember(digest_or_error, (body, compressed))
        cache.set(BODY_PREFIX + digest_or_error, (body, compressed), BODY_SECONDS)
    cache.set(key(number), (workspace_id, digest_or_error, body is not None), CONFIG_SECONDS)


def clear_numbers(numbers) -> None:
    cache.delete_many([key(n) for n in numbers])
