"""GET /healthz (issue 20, point 10): 200 or 503 in JSON with the database, the cache and the
broker (and the oldest queued task's age), one query, no session; and the request id that every
response returns (X-Request-ID) and every log line of the request carries."""

import json
import logging
import os
import time
import uuid

import pytest
import redis
from django.test import Client
from django.urls import reverse

from config import health
from config.celery import app as celery_app
from config.handlers import application_with_api
from config.requestid import HEADER

pytestmark = pytest.mark.django_db

DEAD_REDIS = "redis://127.0.0.1:1/0"
TEST_REDIS = "redis://127.0.0.1:6379/4"
# The queue the broker check reads (CELERY_TASK_DEFAULT_QUEUE): this process's own, so that
# parallel test workers and parallel runs never see each other's messages.
QUEUE = f"playbook-healthz-{os.getpid()}"


def get(client=None, **headers):
    return (client or Client()).get(reverse("healthz"), **headers)


@pytest.fixture
def test_redis(settings):
    client = redis.Redis.from_url(TEST_REDIS, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip("needs Redis at 127.0.0.1:6379 (db 4 is this test's)")
    settings.CELERY_TASK_DEFAULT_QUEUE = QUEUE
    keys = (QUEUE, f"_kombu.binding.{QUEUE}", f"_kombu.binding_permanent.{QUEUE}")
    client.delete(*keys)
    yield client
    client.delete(*keys)


def test_all_up_without_a_broker_is_200_in_one_query(django_assert_num_queries):
    with django_assert_num_queries(1):
        response = get()
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    assert not response.cookies  # no session, no CSRF cookie
    data = response.json()
    assert data["status"] == "ok"
    assert set(data["checks"]) == {"database", "cache", "broker"}
    assert all(c["ok"] and isinstance(c["ms"], float) for c in data["checks"].values())
    assert data["checks"]["broker"] | {"ms": 0} == {
        "ok": True,
        "state": "not configured",
        "queued": None,
        "queue_age_s": None,
        "ms": 0,
    }


def test_a_logged_in_browser_gets_the_same_answer(owner_client):
    response = get(owner_client)
    assert response.status_code == 200 and response.json()["status"] == "ok"


def test_a_broken_cache_is_503_within_seconds(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": DEAD_REDIS,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    started = time.monotonic()
    response = get()
    assert time.monotonic() - started < 5
    assert response.status_code == 503
    data = response.json()
    assert data["status"] == "fail"
    assert data["checks"]["cache"]["ok"] is False
    assert data["checks"]["cache"]["error"] == "ConnectionError"  # no host or port shown
    assert data["checks"]["database"]["ok"] is True


def test_a_dead_broker_is_503_within_seconds(settings):
    settings.CELERY_BROKER_URL = DEAD_REDIS
    started = time.monotonic()
    response = get()
    assert time.monotonic() - started < 5
    assert response.status_code == 503
    broker = response.json()["checks"]["broker"]
    assert broker["ok"] is False and broker["error"] == "ConnectionError"


def test_the_oldest_queued_tasks_age_is_read_from_redis(settings, test_redis):
    settings.CELERY_BROKER_URL = TEST_REDIS
    assert get().json()["checks"]["broker"] | {"ms": 0} == {
        "ok": True,
        "state": "up",
        "queued": 0,
        "queue_age_s": None,
        "ms": 0,
    }
    # kombu pushes on the left: the oldest message is the rightmost one.
    for age in (90, 30):
        message = {"body": "", "headers": {"published_at": time.time() - age}, "properties": {}}
        test_redis.lpush(QUEUE, json.dumps(message))
    response = get()
    assert response.status_code == 200
    broker = response.json()["checks"]["broker"]
    assert broker["queued"] == 2
    assert 89 <= broker["queue_age_s"] <= 95


@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")
def test_a_published_task_carries_its_publish_time(test_redis):
    before = time.time()
    with celery_app.connection_for_write(TEST_REDIS) as connection:
        celery_app.send_task("playbook.healthz_probe", connection=connection, queue=QUEUE)
    message = json.loads(test_redis.lindex(QUEUE, -1))
    assert before <= message["headers"]["published_at"] <= time.time()
    assert health.queue_age(test_redis.lindex(QUEUE, -1), time.time() + 5) >= 5


def test_the_probe_needs_no_login_and_refuses_writes():
    assert Client().post(reverse("healthz")).status_code == 405
    assert Client().head(reverse("healthz")).status_code == 200


def test_the_probe_is_not_redirected_to_https(settings):
    settings.SECURE_SSL_REDIRECT = True
    assert get().status_code == 200
    assert Client().get("/accounts/login/").status_code == 301


def test_production_serves_the_probe_with_the_lean_handler():
    seen = []
    app = application_with_api(
        lambda environ, start: seen.append("full"), lambda environ, start: seen.append("lean")
    )
    for path in ("/healthz", "/healthz/", "/jobs/"):
        app({"PATH_INFO": path}, None)
    assert seen == ["lean", "full", "full"]


# Request ids --------------------------------------------------------------------------------


def test_a_request_id_is_made_and_returned():
    first, second = get()[HEADER], get()[HEADER]
    assert len(first) == 32 and int(first, 16) >= 0
    assert first != second


def test_a_well_formed_incoming_id_is_kept_and_a_bad_one_replaced():
    given = "lb-1234.abc_DEF"
    assert get(HTTP_X_REQUEST_ID=given)[HEADER] == given
    for bad in ("has space", "x" * 65, "semi;colon", "é", "a\nb", ""):
        returned = get(HTTP_X_REQUEST_ID=bad)[HEADER]
        assert returned != bad and len(returned) == 32, bad


def test_pages_and_the_api_return_it(owner_client):
    assert owner_client.get(reverse("jobs:list"))[HEADER]
    response = Client().get("/api/v1/nothing", HTTP_X_REQUEST_ID="probe-1")
    assert response.status_code == 404 and response[HEADER] == "probe-1"


def test_every_log_record_of_a_request_carries_its_id(caplog):
    given = uuid.uuid4().hex
    with caplog.at_level(logging.WARNING):
        response = Client().get("/no-such-page/", HTTP_X_REQUEST_ID=given)
    assert response.status_code == 404 and response[HEADER] == given
    records = [r for r in caplog.records if r.name == "django.request"]
    assert records and all(r.request_id == given for r in records)
    # Outside a request: "-".
    logging.getLogger("playbook.test").warning("no request")
    assert caplog.records[-1].request_id == "-"


def test_the_log_format_prints_it():
    from django.conf import settings

    assert "%(request_id)s" in settings.LOGGING["formatters"]["line"]["format"]
    record = logging.makeLogRecord({"msg": "hello"})
    assert record.request_id == "-"
