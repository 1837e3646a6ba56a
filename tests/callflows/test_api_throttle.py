"""Bad API tokens are rate limited per source and minute, in the cache (callflows/throttle.py):
a source (an IPv4 address, or an IPv6 /64) gets LIMIT bad tokens a minute, then its bad tokens
are answered 429; a valid token is never refused by this limit."""

import os
import secrets
import time
from types import SimpleNamespace

import django_ratelimit.core
import pytest
from django.urls import reverse

from callflows import live as live_module
from callflows import services
from tests.test_freshness import (
    ON_REDIS_15,
    REDIS_URL,
    Site,
    _redis_up,
    database_url,  # noqa: F401  (a fixture: a database of its own)
)
from workspaces.services import api_token_create

pytestmark = pytest.mark.django_db

LIMIT = 30
TOO_MANY = "Too many requests with a bad API token from this address. Try again in {} seconds."


@pytest.fixture(autouse=True)
def fresh(settings):
    settings.API_BAD_TOKEN_LIMIT = LIMIT
    live_module._bodies.clear()


@pytest.fixture
def clock(monkeypatch):
    """The limiter's clock (django-ratelimit reads time.time()), fixed and movable."""
    clock = SimpleNamespace(now=1_740_000_000.0)
    monkeypatch.setattr(django_ratelimit.core, "time", SimpleNamespace(time=lambda: clock.now))
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
    retry_after = int(response["Retry-After"])
    assert 1 <= retry_after <= 61
    assert response.json() == {"error": TOO_MANY.format(retry_after)}


def test_a_valid_token_is_never_refused(client, phone, token, clock, django_assert_num_queries):
    assert get(client, phone, token).status_code == 200  # the body is built and kept
    guess(client, phone, 100)
    assert get(client, phone).status_code == 429
    for _ in range(3):
        with django_assert_num_queries(0):  # the lookup is leased: nothing at all
            assert get(client, phone, token).status_code == 200
    assert get(client, phone).status_code == 429  # and the source's bad tokens still are


def test_missing_and_malformed_tokens_count_and_cost_no_query(
    client, phone, token, clock, django_assert_num_queries
):
    url = reverse("api:live", args=[phone.number])
    with django_assert_num_queries(0):
        for i in range(LIMIT):
            auth = f"Basic x{i}" if i % 3 == 0 else ("" if i % 3 == 1 else "Bearer \u00e9t\u00e9")
            assert client.get(url, HTTP_AUTHORIZATION=auth).status_code == 401
        assert client.get(url).status_code == 429


def test_a_well_formed_bad_token_costs_the_lookup_only(
    client, phone, token, clock, django_assert_num_queries
):
    with django_assert_num_queries(1):
        assert get(client, phone).status_code == 401
    guess(client, phone)
    with django_assert_num_queries(1):
        assert get(client, phone).status_code == 429


def test_another_source_is_not_limited(client, phone, token, clock):
    guess(client, phone, LIMIT + 5)
    assert get(client, phone, REMOTE_ADDR="198.51.100.9").status_code == 401
    assert get(client, phone, token, REMOTE_ADDR="198.51.100.9").status_code == 200


def test_an_ipv6_64_is_one_source(client, phone, token, clock):
    statuses = [
        get(client, phone, f"pb_guess{i}", REMOTE_ADDR=f"2001:db8:5:6::{i + 1:x}").status_code
        for i in range(LIMIT + 1)
    ]
    assert statuses == [401] * LIMIT + [429]  # every guess from another address of the /64
    assert get(client, phone, REMOTE_ADDR="2001:db8:5:6:ffff::1").status_code == 429
    assert get(client, phone, REMOTE_ADDR="2001:db8:5:7::1").status_code == 401  # next /64
    assert get(client, phone, token, REMOTE_ADDR="2001:db8:5:6::1").status_code == 200


def test_the_window_ends(client, phone, token, clock):
    guess(client, phone, LIMIT + 1)
    retry_after = int(get(client, phone)["Retry-After"])
    clock.now += retry_after - 1
    assert get(client, phone).status_code == 429  # not yet
    clock.now += 1
    assert guess(client, phone) == [401] * LIMIT
    assert get(client, phone).status_code == 429


def test_good_requests_do_not_count(client, phone, token, clock):
    for _ in range(LIMIT + 5):
        assert get(client, phone, token).status_code == 200
    assert get(client, phone).status_code == 401


def test_forwarded_for_counts_only_behind_a_trusted_proxy(client, phone, token, clock, settings):
    guess(client, phone, LIMIT, HTTP_X_FORWARDED_FOR="203.0.113.1")
    # Forging the header buys nothing: the source is still REMOTE_ADDR.
    assert get(client, phone, HTTP_X_FORWARDED_FOR="203.0.113.2").status_code == 429
    settings.TRUSTED_PROXY_COUNT = 1
    assert get(client, phone, HTTP_X_FORWARDED_FOR="203.0.113.2").status_code == 401
    guess(client, phone, LIMIT, HTTP_X_FORWARDED_FOR="203.0.113.2")
    assert get(client, phone, HTTP_X_FORWARDED_FOR="203.0.113.2").status_code == 429
    assert get(client, phone, HTTP_X_FORWARDED_FOR="203.0.113.3").status_code == 401
    # Behind the proxy, every client has the proxy's REMOTE_ADDR: the valid token still passes.
    assert get(client, phone, token, HTTP_X_FORWARDED_FOR="203.0.113.2").status_code == 200


# Across processes: separate processes on one database and one Redis ------------------------

_REQUESTS = """
from django.test import Client
client = Client(HTTP_HOST="localhost")
for token in {tokens!r}:
    response = client.get("/api/v1/numbers/+15555550100/live", HTTP_AUTHORIZATION="Bearer " + token)
    print(response.status_code)
"""


@pytest.fixture
def site(database_url, tmp_path):  # noqa: F811
    """Separate processes on one database, sharing Redis as the cache (the local-memory cache
    of the zero-setup mode is per process, and so is its count)."""
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
    if not _redis_up():
        pytest.skip("needs Redis at 127.0.0.1:6379 (runs in CI)")
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
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
@ON_REDIS_15
def test_the_count_is_shared_by_every_process(site):
    half = LIMIT // 2
    # Every request in one window of the source (django-ratelimit staggers them per key).
    left = django_ratelimit.core._get_window("127.0.0.1", 60) - time.time()
    if left < 20:
        time.sleep(left + 1)
    # Two processes, each with fewer failures than the limit...
    assert _requests(site, [f"pb_a{i}" for i in range(half)]) == [401] * half
    assert _requests(site, [f"pb_b{i}" for i in range(LIMIT - half)]) == [401] * (LIMIT - half)
    # ...and a third one is already over it: only a count they all share can say so.
    # The valid token is still served (404: the number does not exist there).
    assert _requests(site, ["pb_c", site.token]) == [429, 404]
