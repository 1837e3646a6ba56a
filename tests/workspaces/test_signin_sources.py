"""Password spraying: a limit per source across accounts, beside the per-account lockout
(workspaces/signin.py). A source is an IPv4 address or an IPv6 /64; staff see and lift it."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.urls import reverse
from django.utils import timezone

from tests.factories import UserFactory
from tests.workspaces.test_signin import LOCKED, CountingHasher, logged_in, login
from workspaces import services
from workspaces.models import AuditEvent, SourceLockout
from workspaces.permissions import RoleRequired, staff_support

pytestmark = pytest.mark.django_db

LIMIT = 20  # SIGNIN_SOURCE_FAILURE_LIMIT's default
SPRAYED = "Too many failed sign-ins from your network, across several accounts."
NET = "2001:db8:7:1::"  # a /64 of the documentation prefix


@pytest.fixture
def victims(db):
    return UserFactory.create_batch(30)


def spray(client, victims, tries=4, **extra):
    """`tries` wrong passwords for each account in turn, as a sprayer does: 120 by default."""
    return [
        login(client, victim.email, f"guess {n}", **extra).status_code
        for n in range(tries)
        for victim in victims
    ]


def test_120_tries_over_30_accounts_lock_the_source(client, victims, owner, password):
    statuses = spray(client, victims)
    # Never 5 for one account: only the per-source limit stops this.
    assert statuses == [200] * (LIMIT - 1) + [429] * (120 - LIMIT + 1)
    refused = login(client, owner.email, password)  # a right password for another account
    assert refused.status_code == 429 and not logged_in(client)
    assert SPRAYED in refused.text and LOCKED not in refused.text
    assert "Try again in 15 minutes" in refused.text
    lockout = SourceLockout.objects.get()
    # Refused tries count on (and keep the lock on): all 30 accounts and the owner's.
    assert (lockout.source, lockout.accounts, lockout.failures) == ("127.0.0.1", 31, 121)


def test_a_locked_source_costs_no_password_hashing(client, victims, owner, password, settings):
    settings.PASSWORD_HASHERS = ["tests.workspaces.test_signin.CountingHasher"]
    spray(client, victims[:LIMIT], tries=1)
    CountingHasher.calls = 0
    for email, guess in ((owner.email, password), (victims[-1].email, "x"), ("no@x.test", "x")):
        assert login(client, email, guess).status_code == 429
    assert CountingHasher.calls == 0


def test_another_source_is_not_locked(client, victims, owner, password):
    spray(client, victims, REMOTE_ADDR="198.51.100.7")
    assert login(client, owner.email, password, REMOTE_ADDR="198.51.100.8").status_code == 302


def test_rotating_addresses_inside_a_64_is_one_source(client, victims, owner, password):
    statuses = [
        login(client, v.email, "wrong", REMOTE_ADDR=f"2001:db8:7:1::{i:x}").status_code
        for i, v in enumerate(victims[:LIMIT], start=1)
    ]
    assert statuses == [200] * (LIMIT - 1) + [429]
    assert SourceLockout.objects.get().source == NET
    assert login(client, owner.email, password, REMOTE_ADDR="2001:db8:7:1:ffff::9").status_code == (
        429
    )
    # The next /64 is another source.
    assert login(client, owner.email, password, REMOTE_ADDR="2001:db8:7:2::1").status_code == 302


def test_rotating_inside_a_64_does_not_dodge_the_account_lockout(client, owner, password):
    for i in range(5):
        login(client, owner.email, "wrong", REMOTE_ADDR=f"2001:db8:7:1::{i + 1}")
    refused = login(client, owner.email, password, REMOTE_ADDR="2001:db8:7:1:abcd::1")
    assert refused.status_code == 429 and LOCKED in refused.text
    assert login(client, owner.email, password, REMOTE_ADDR="2001:db8:7:2::1").status_code == 302


def test_signing_in_to_ones_own_account_does_not_reset_the_source(client, victims, password):
    mine = UserFactory()
    spray(client, victims[: LIMIT - 1], tries=1)
    assert login(client, mine.email, password).status_code == 302  # resets mine only
    client.logout()
    assert login(client, victims[0].email, "one more").status_code == 429


def test_the_lock_lasts_15_minutes_after_the_last_failure(client, victims, owner, password):
    spray(client, victims[:LIMIT], tries=1)
    past = timezone.now() - timedelta(minutes=15, seconds=1)
    SourceLockout.objects.update(expires_at=past)
    AccessAttempt.objects.update(attempt_time=past)
    assert login(client, owner.email, password).status_code == 302 and logged_in(client)


def test_staff_see_and_lift_the_lock_in_the_admin(client, victims, owner, password, staff):
    spray(client, victims, REMOTE_ADDR="2001:db8:7:1::5")
    lockout = SourceLockout.objects.get()
    client.force_login(staff)
    url = reverse("admin:workspaces_sourcelockout_changelist")
    listing = client.get(url, {"state": "active"})
    assert listing.status_code == 200
    assert f"{NET}/64" in listing.text and "In force" in listing.text
    response = client.post(url, {"action": "lift", "_selected_action": [lockout.pk]}, follow=True)
    assert "Lifted 1 lockout(s)." in response.text
    lockout.refresh_from_db()
    assert lockout.lifted_by == staff and lockout.lifted_at is not None
    assert not AccessAttempt.objects.filter(ip_address=NET).exists()  # a fresh count
    event = AuditEvent.objects.get(action="signin.source_unlocked")
    assert (event.actor, event.via_support, event.workspace) == (staff, True, None)
    assert event.object_label == f"{NET}/64" and event.details["accounts"] == 30
    assert f"Lifted by {staff}" in client.get(url).text
    client.logout()
    ok = login(client, owner.email, password, REMOTE_ADDR="2001:db8:7:1::5")
    assert ok.status_code == 302 and logged_in(client)


def test_only_support_staff_lift_a_lock(client, victims, staff, owner):
    spray(client, victims[:LIMIT], tries=1)
    lockout = SourceLockout.objects.get()
    for actor in (owner, staff):  # staff outside the admin act as ordinary users
        with pytest.raises(RoleRequired):
            services.signin_source_unlock(lockout=lockout, user=actor)
    lockout.refresh_from_db()
    assert lockout.lifted_at is None and AccessAttempt.objects.exists()
    assert not AuditEvent.objects.filter(action="signin.source_unlocked").exists()
    with staff_support(staff):
        services.signin_source_unlock(lockout=lockout, user=staff)
    assert SourceLockout.objects.active().count() == 0
