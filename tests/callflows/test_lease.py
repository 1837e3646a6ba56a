"""A warm runtime request makes no database trip: each process leases what a token and a
number looked up to for live.FRESH_SECONDS (callflows/live.py). Changes committed elsewhere are
served within that second; this process forgets at once. Across processes:
tests/test_freshness.py."""

from types import SimpleNamespace

import pytest
from django.utils import timezone

from callflows import live
from callflows import services as callflows
from workspaces.models import ApiToken
from workspaces.services import api_token_create, api_token_revoke

from .test_api_throttle import get

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(monkeypatch):
    """The lease's clock (time.monotonic in callflows/live.py), fixed and movable."""
    clock = SimpleNamespace(now=1000.0)
    monkeypatch.setattr(live, "time", SimpleNamespace(monotonic=lambda: clock.now))
    return clock


@pytest.fixture
def token(workspace, owner, phone):
    callflows.callflow_publish(call_flow=phone.call_flow, user=owner)
    return api_token_create(workspace=workspace, name="runtime", user=owner)


def test_a_revoke_elsewhere_is_refused_once_the_lease_ends(
    client, phone, token, clock, django_assert_num_queries
):
    assert get(client, phone, token.raw).status_code == 200
    # Another process revokes: nothing in this one hears of it (no signal, no forget()).
    ApiToken.objects.filter(pk=token.token.pk).update(revoked_at=timezone.now())
    clock.now += live.FRESH_SECONDS - 0.01
    with django_assert_num_queries(0):  # still leased: served as before, for under a second
        assert get(client, phone, token.raw).status_code == 200
    clock.now += 0.02
    with django_assert_num_queries(1):  # the lease is over: looked up again, and refused
        assert get(client, phone, token.raw).status_code == 401


def test_a_revoke_in_this_process_is_refused_at_once(client, phone, owner, token, clock):
    assert get(client, phone, token.raw).status_code == 200
    api_token_revoke(token=token.token, user=owner)
    assert get(client, phone, token.raw).status_code == 401


def test_a_change_in_this_process_is_served_at_once(client, phone, owner, token, clock):
    assert get(client, phone, token.raw).json()["display_name"] != "Renamed"
    callflows.phone_number_rename(phone_number=phone, display_name="Renamed", user=owner)
    assert get(client, phone, token.raw).json()["display_name"] == "Renamed"


def test_refusals_are_not_leased(client, phone, workspace, owner, clock):
    """An unknown token or an unpublished number is asked for each time, so a token created or
    a number published a moment later works at once."""
    new = api_token_create(workspace=workspace, name="new", user=owner)
    assert get(client, phone, new.raw).status_code == 404  # not published yet
    callflows.callflow_publish(call_flow=phone.call_flow, user=owner)
    assert get(client, phone, new.raw).status_code == 200
