"""GET /healthz: the state of the database, the cache and the Celery broker, for the load
balancer and the operator.

200 when every check passes, 503 when one fails; JSON either way, with each check's latency.
Cheap enough to poll every few seconds: one `SELECT 1`, one cache write and read, and with a
Redis broker a PING and a look at the oldest queued task (LINDEX <queue> -1: kombu pushes on the
left, workers pop from the right). Its age comes from the `published_at` header that
config/celery.py stamps on every task it publishes. No session, no token, no database write;
served by the lean handler in production (config/handlers.py). Every check has a short
timeout: a dead Redis answers 503 in about a second, it does not hang the probe.
"""

import json
import logging
import time
import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse

from core import jsonapi

logger = logging.getLogger(__name__)
TIMEOUT = 1.0  # seconds, for each network check
_CACHE_KEY = f"healthz:{uuid.uuid4().hex}"  # one key per process: probes never collide
_redis_clients: dict = {}


def _timed(name: str, check) -> dict:
    started = time.perf_counter()
    try:
        result = {"ok": True, **(check() or {})}
    except Exception as exc:  # noqa: BLE001 (any failure is "down")
        # The kind of failure for the probe; the details (hosts, ports) only in the log.
        logger.warning("healthz: the %s check failed: %r", name, exc)
        result = {"ok": False, "error": type(exc).__name__}
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def _database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _cache():
    value = uuid.uuid4().hex
    cache.set(_CACHE_KEY, value, timeout=30)
    if cache.get(_CACHE_KEY) != value:
        raise RuntimeError("the value written was not read back")


def _redis(url: str):
    client = _redis_clients.get(url)
    if client is None:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        client = redis.Redis.from_url(  # no retries: one timeout, then "down"
            url, socket_connect_timeout=TIMEOUT, socket_timeout=TIMEOUT, retry=Retry(NoBackoff(), 0)
        )
        _redis_clients[url] = client
    return client


def queue_age(raw: bytes | None, now: float) -> float | None:
    """Seconds since the oldest queued message was published, from its `published_at` header;
    None for an empty queue or a message without the header (published by older code)."""
    if raw is None:
        return None
    try:
        published = json.loads(raw)["headers"]["published_at"]
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(published, int | float) or isinstance(published, bool):
        return None
    return round(max(0.0, now - published), 1)


def _broker():
    url = settings.CELERY_BROKER_URL
    if not url:  # tasks run eagerly in-process: nothing to reach
        return {"state": "not configured", "queued": None, "queue_age_s": None}
    if urlsplit(url).scheme not in ("redis", "rediss"):
        from config.celery import app

        with app.connection_for_write(url) as conn:
            conn.ensure_connection(max_retries=1, timeout=TIMEOUT)
        return {"state": "up", "queued": None, "queue_age_s": None}
    client = _redis(url)
    queue = getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", "celery")
    with client.pipeline(transaction=False) as pipe:
        pipe.llen(queue)
        pipe.lindex(queue, -1)
        queued, oldest = pipe.execute()
    return {"state": "up", "queued": queued, "queue_age_s": queue_age(oldest, time.time())}


CHECKS = {"database": _database, "cache": _cache, "broker": _broker}


@login_not_required
@jsonapi.require_methods("GET")
def healthz(request):
    checks = {name: _timed(name, check) for name, check in CHECKS.items()}
    ok = all(c["ok"] for c in checks.values())
    response = JsonResponse({"status": "ok" if ok else "fail", "checks": checks})
    response.status_code = 200 if ok else 503
    response["Cache-Control"] = "no-store"
    return response
