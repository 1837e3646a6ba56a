"""Bad API tokens are rate limited per client address and minute (callflows/throttle.py)."""

import os
import secrets
import time

import pytest
from django.core.cache import cache
from django.urls import reverse

from callflows import live as live_module
from callflows import services, throttle
from callflows.models import BadTokenWindow
from tests.test_freshness import (
    REDIS_URL,
    Site,
    _redis_up,
    database_url,  # noqa: F401  (a fixture: a database of its own)
)
from workspaces.services import api_token_create

pytestmark = pytest.mark.django_db

LIMIT = 30
MINUTE = 29_000_000  # a fixed minute: Unix time // 60


@pytest.fixture(autouse=True)
def fresh(settings):
    settings.API_BAD_TOKEN_LIMIT = LIMIT
    cache.clear()
    live_module._bodies.clear()


class Clock:
    def __init__(self):
        self.seconds = MINUTE * 60 + 15.5

    def __call__(self):
        return self.seconds


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(throttle, "_clock", clock)
    return clock


@pytest.fixture
def token(workspace, owner, phone):
    services.callflow_publish(call_flow=phone.call_flow, user=owner)
    return api_token_create(workspace=workspace, name="runtime", user=owner).raw


def get(client, phone, token="pb_wrong", **extra):
    return client.get(
        reverse("api:live", args=[phone.number]), HTTP_AUTHORIZATION=f"Bearer {token}", **extra
    )


def guess(client, phone, times=LIMIT, **extra):
    return [get(client, phone, f"pb_guess{i}", **extra).status_code for i in range(times)]


def test_30_bad_tokens_then_429_with_retry_after(client, phone, token, clock):
    assert guess(client, phone) == [401] * LIMIT
    response = get(client, phone)
    assert response.status_code == 429
    assert response["Retry-After"] == "45"  # the minute ends in 44.5 s
    assert response.json() == {
        "error": "Too many requests with a bad API token from this address. "
        "Try again in 45 seconds."
    }
    assert BadTokenWindow.objects.get().failures == LIMIT  # over the limit: no more writes


def test_missing_and_malformed_tokens_count_too(client, phone, token, clock):
    url = reverse("api:live", args=[phone.number])
    for i in range(LIMIT):
        assert client.get(url, HTTP_AUTHORIZATION=f"Basic x{i}" if i % 2 else "").status_code == 401
    assert client.get(url).status_code == 429


def test_a_good_token_from_a_limited_address_gets_429_too(
    client, phone, token, clock, django_assert_num_queries
):
    assert get(client, phone, token).status_code == 200
    guess(client, phone)
    with django_assert_num_queries(1):  # the lookup alone: nothing written over the limit
        response = get(client, phone, token)
    assert response.status_code == 429 and "Retry-After" in response
    assert BadTokenWindow.objects.get().failures == LIMIT


def test_another_address_is_not_limited(client, phone, token, clock):
    guess(client, phone, LIMIT + 5)
    assert get(client, phone, REMOTE_ADDR="198.51.100.9").status_code == 401
    assert get(client, phone, token, REMOTE_ADDR="198.51.100.9").status_code == 200


def test_the_window_resets_next_minute(client, phone, token, clock):
    guess(client, phone, LIMIT + 1)
    assert get(client, phone, token).status_code == 429
    clock.seconds += 45  # the next minute
    assert get(client, phone, token).status_code == 200
    assert guess(client, phone) == [401] * LIMIT
    assert get(client, phone).status_code == 429


def test_good_requests_do_not_count(client, phone, token, clock):
    for _ in range(LIMIT + 5):
        assert get(client, phone, token).status_code == 200
    assert not BadTokenWindow.objects.exists()


def test_forwarded_for_counts_only_behind_a_trusted_proxy(client, phone, token, clock, settings):
    guess(client, phone, LIMIT, HTTP_X_FORWARDED_FOR="203.0.113.1")
    # Forging the header buys nothing: the address is still REMOTE_ADDR.
    assert get(client, phone, token, HTTP_X_FORWARDED_FOR="203.0.113.2").status_code == 429
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    assert get(client, phone, token, HTTP_X_FORWARDED_FOR="203.0.113.2").status_code == 200
    guess(client, phone, LIMIT, HTTP_X_FORWARDED_FOR="203.0.113.2")
    assert get(client, phone, token, HTTP_X_FORWARDED_FOR="203.0.113.2").status_code == 429
    assert get(client, phone, token, HTTP_X_FORWARDED_FOR="203.0.113.3").status_code == 200


def test_old_windows_are_pruned(clock):
    for minute in (MINUTE - 11, MINUTE - 10, MINUTE - 1):
        throttle.bad_token_record(address="192.0.2.1", minute=minute)
    assert throttle.bad_token_prune(minute=MINUTE) == 1
    assert sorted(BadTokenWindow.objects.values_list("minute", flat=True)) == [
        MINUTE - 10,
        MINUTE - 1,
    ]
    # The first failure of an address in a minute prunes; the next ones do not.
    throttle.bad_token_record(address="192.0.2.2", minute=MINUTE + 10)
    assert sorted(BadTokenWindow.objects.values_list("minute", flat=True)) == [MINUTE + 10]


def test_queries_of_a_bad_token(client, phone, token, clock, django_assert_num_queries):
    with django_assert_num_queries(3):  # lookup, count, prune (the address's first this minute)
        assert get(client, phone).status_code == 401
    with django_assert_num_queries(2):  # lookup, count
        assert get(client, phone).status_code == 401
    with django_assert_num_queries(1):  # a malformed token: count only
        assert get(client, phone, "nope").status_code == 401


def test_the_database_keeps_one_row_per_address_and_minute(db):
    from django.db import IntegrityError, transaction

    BadTokenWindow.objects.create(address="192.0.2.1", minute=MINUTE)
    with pytest.raises(IntegrityError), transaction.atomic():
        BadTokenWindow.objects.create(address="192.0.2.1", minute=MINUTE)
    with pytest.raises(IntegrityError), transaction.atomic():
        BadTokenWindow.objects.create(address="192.0.2.2", minute=MINUTE, failures=0)


# Across processes: separate processes on one database, in both cache modes ------------------

_REQUESTS = """
from django.test import Client
client = Client(HTTP_HOST="localhost")
for token in {tokens!r}:
    response = client.get("/api/v1/numbers/+15555550100/live", HTTP_AUTHORIZATION="Bearer " + token)
    print(response.status_code)
"""


@pytest.fixture(params=["default cache", "redis"])
def site(request, database_url, tmp_path):  # noqa: F811
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": database_url,
        "PYTHONWARNINGS": "ignore",
        "API_BAD_TOKEN_LIMIT": str(LIMIT),
    }
    env.pop("CACHE_URL", None)
    if request.param == "redis":
        if not _redis_up():
            pytest.skip("needs Redis at 127.0.0.1:6379 (runs in CI)")
        env["CACHE_URL"] = REDIS_URL
    site = Site(env, tmp_path)
    site.manage("migrate", "--noinput", "-v0")
    site.token = site.shell(
        "from workspaces.models import User; from workspaces.services import *;"
        "u = User.objects.create_user('owner@throttle.test');"
        "w = workspace_create(name='Throttle', owner=u);"
        "print(api_token_create(workspace=w, name='rt', user=u).raw)"
    ).split()[-1]
    return site


def _requests(site, tokens) -> list[int]:
    return [int(line) for line in site.shell(_REQUESTS.format(tokens=tokens)).split()]


@pytest.mark.slow
def test_the_count_is_shared_by_every_process(site):
    half = LIMIT // 2
    if time.time() % 60 > 40:  # every request in one minute: the count starts afresh each
        time.sleep(61 - time.time() % 60)
    # Two processes, each with fewer failures than the limit...
    assert _requests(site, [f"pb_a{i}" for i in range(half)]) == [401] * half
    assert _requests(site, [f"pb_b{i}" for i in range(LIMIT - half)]) == [401] * (LIMIT - half)
    # ...and a third one is already over it: only a count they all share can say so.
    assert _requests(site, ["pb_c", site.token]) == [429, 429]
