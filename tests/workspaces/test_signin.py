"""Sign-in: the password reset flow and the login lockout (django-axes, workspaces/signin.py)."""

import re
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.hashers import MD5PasswordHasher
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from core.sources import client_ip, source_of
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOCKED = "Too many failed attempts for this account from your network."


def login(client, email, password, **extra):
    return client.post(reverse("login"), {"username": email, "password": password}, **extra)


def fail(client, email, times=5, **extra):
    return [login(client, email, "wrong password", **extra) for _ in range(times)]


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


# Password reset -------------------------------------------------------------------------------


def test_login_page_links_to_password_reset(client):
    html = client.get(reverse("login")).text
    assert f'<a href="{reverse("password_reset")}">Forgot password?</a>' in html


def test_whole_reset_flow_by_email(client, owner, mailoutbox):
    response = client.post(reverse("password_reset"), {"email": owner.email.upper()}, follow=True)
    assert "Check your email" in response.text
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == [owner.email] and mail.subject == "Reset your Playbook password"
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", mail.body).group(1)

    form = client.get(link, follow=True)  # Django swaps the token for a session value
    assert "Choose a new password" in form.text
    new = "a brand new passphrase 77"
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": new, "new_password2": new}, follow=True
    )
    assert "Your password was changed" in done.text

    assert login(client, owner.email, new).status_code == 302 and logged_in(client)
    client.logout()
    assert "no longer works" in client.get(link, follow=True).text  # single use


def test_reset_for_unknown_email_looks_the_same_and_sends_nothing(client, owner, mailoutbox):
    known = client.post(reverse("password_reset"), {"email": owner.email}, follow=True)
    unknown = client.post(reverse("password_reset"), {"email": "nobody@x.test"}, follow=True)
    assert unknown.redirect_chain == known.redirect_chain
    assert _visible(unknown, "nobody@x.test") == _visible(known, owner.email)
    assert len(mailoutbox) == 1


def test_reset_pages_use_the_app_layout(client):
    for name in ("password_reset", "password_reset_done", "password_reset_complete"):
        html = client.get(reverse(name)).text
        assert 'class="brand"' in html and "Django administration" not in html, name
    bad = client.get(reverse("password_reset_confirm", args=["MQ", "set-password"])).text
    assert "This reset link no longer works" in bad and 'class="brand"' in bad


def test_bad_new_password_is_refused_and_changes_nothing(client, owner, password, mailoutbox):
    client.post(reverse("password_reset"), {"email": owner.email})
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", mailoutbox[0].body).group(1)
    form = client.get(link, follow=True)
    response = client.post(
        form.redirect_chain[-1][0], {"new_password1": "abc", "new_password2": "abd"}
    )
    assert response.status_code == 200 and "didn’t match" in response.text
    owner.refresh_from_db()
    assert owner.check_password(password)


# Lockout --------------------------------------------------------------------------------------


def test_five_failures_lock_the_account_from_that_address(client, owner, password):
    responses = fail(client, owner.email)
    assert [r.status_code for r in responses[:4]] == [200] * 4
    assert responses[4].status_code == 429 and LOCKED in responses[4].text
    refused = login(client, owner.email, password)  # even the right password
    assert refused.status_code == 429 and LOCKED in refused.text and not logged_in(client)
    assert "Forgot password?" in refused.text and 'name="username"' in refused.text


def test_lock_is_per_account_and_address(client, owner, password):
    other = UserFactory()
    fail(client, owner.email)
    assert login(client, other.email, password).status_code == 302  # other account: fine
    client.logout()
    # The same account from another address is not locked either.
    assert login(client, owner.email, password, REMOTE_ADDR="10.0.0.7").status_code == 302


def test_email_case_does_not_buy_more_tries(client, owner, password):
    fail(client, owner.email, times=3)
    fail(client, f"  {owner.email.upper()}", times=2)
    assert login(client, owner.email, password).status_code == 429


def test_success_resets_the_count(client, owner, password):
    fail(client, owner.email, times=4)
    assert login(client, owner.email, password).status_code == 302
    client.logout()
    fail(client, owner.email, times=4)
    assert login(client, owner.email, password).status_code == 302


def test_lock_lasts_15_minutes(client, owner, password):
    fail(client, owner.email)
    attempt = AccessAttempt.objects.get(username=owner.email)
    attempt.attempt_time = timezone.now() - timedelta(minutes=14)
    attempt.save()
    assert login(client, owner.email, password).status_code == 429
    # That refused try restarted the 15 minutes; let them pass.
    AccessAttempt.objects.filter(pk=attempt.pk).update(
        attempt_time=timezone.now() - timedelta(minutes=15, seconds=1)
    )
    assert login(client, owner.email, password).status_code == 302 and logged_in(client)


def test_unknown_email_locks_alike_and_reveals_nothing(client, owner):
    known = fail(client, owner.email)
    unknown = fail(client, "nobody@example.test")
    assert [r.status_code for r in unknown] == [r.status_code for r in known]
    for a, b in zip(known, unknown, strict=True):
        assert _visible(a, owner.email) == _visible(b, "nobody@example.test")


def _visible(response, email) -> str:
    text = re.sub(r"[A-Za-z0-9]{64}", "", response.text)  # CSRF tokens
    return re.sub(r"<input[^>]*name=\"username\"[^>]*>", "", text).replace(email, "")


class CountingHasher(MD5PasswordHasher):
    """The test hasher, counting every hash it computes."""

    calls = 0

    def encode(self, password, salt):
        CountingHasher.calls += 1
        return super().encode(password, salt)


@pytest.fixture
def counting_hasher(settings):
    settings.PASSWORD_HASHERS = ["tests.workspaces.test_signin.CountingHasher"]
    CountingHasher.calls = 0
    return CountingHasher


def test_a_locked_attempt_costs_no_password_hashing(client, counting_hasher, password):
    user = UserFactory()  # its password hashed by the counting hasher
    counting_hasher.calls = 0
    fail(client, user.email)
    assert counting_hasher.calls == 5  # each failure before the lock checks one password
    for guess in ("wrong", password):
        counting_hasher.calls = 0
        assert login(client, user.email, guess).status_code == 429
        assert counting_hasher.calls == 0, guess
    counting_hasher.calls = 0
    fail(client, "nobody@example.test")
    assert counting_hasher.calls == 5  # an unknown email costs the same hashing (no timing hint)
    counting_hasher.calls = 0
    assert login(client, "nobody@example.test", "x").status_code == 429
    assert counting_hasher.calls == 0


def test_admin_login_is_protected_too(client, staff, password):
    url = reverse("admin:login")
    for _ in range(5):
        client.post(url, {"username": staff.email, "password": "wrong"})
    response = client.post(url, {"username": staff.email, "password": password})
    assert response.status_code == 429 and LOCKED in response.text and not logged_in(client)


def test_staff_unlock_in_the_admin(client, owner, password, staff):
    fail(client, owner.email)
    attempt = AccessAttempt.objects.get(username=owner.email)
    client.force_login(staff)
    listing = client.get(reverse("admin:axes_accessattempt_changelist"))
    assert listing.status_code == 200 and owner.email in listing.text
    client.post(reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"})
    assert not AccessAttempt.objects.exists()
    client.logout()
    assert login(client, owner.email, password).status_code == 302


def test_password_reset_lifts_the_lock(client, owner, mailoutbox):
    fail(client, owner.email)
    client.post(reverse("password_reset"), {"email": owner.email})
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", mailoutbox[0].body).group(1)
    form = client.get(link, follow=True)
    new = "a brand new passphrase 77"
    client.post(form.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    assert login(client, owner.email, new).status_code == 302


# Client address behind a proxy ----------------------------------------------------------------


def test_forwarded_for_is_ignored_unless_the_proxy_is_trusted(client, owner, password, settings):
    fail(client, owner.email, HTTP_X_FORWARDED_FOR="203.0.113.5")
    refused = login(client, owner.email, password, HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert refused.status_code == 429  # a forged header does not buy a fresh address

    settings.TRUSTED_PROXY_COUNT = 1
    fail(client, owner.email, HTTP_X_FORWARDED_FOR="203.0.113.5")
    ok = login(client, owner.email, password, HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert ok.status_code == 302  # behind the trusted proxy, another client is another address


@pytest.mark.parametrize(
    "remote, forwarded, proxies, expected",
    [
        ("198.51.100.1", "203.0.113.5", 0, "198.51.100.1"),  # no proxy: the header is ignored
        ("10.0.0.2", "203.0.113.5", 1, "203.0.113.5"),
        # A client's own X-Forwarded-For is kept on the left: counted from the right.
        ("10.0.0.2", "1.2.3.4, 203.0.113.5", 1, "203.0.113.5"),
        ("10.0.0.2", "1.2.3.4, 203.0.113.5, 10.0.0.9", 2, "203.0.113.5"),
        ("10.0.0.2", "junk, 10.0.0.9", 1, "10.0.0.9"),
        ("10.0.0.2", "", 1, "10.0.0.2"),  # no header (not via the proxy): REMOTE_ADDR
        ("10.0.0.2", "203.0.113.5", 2, "10.0.0.2"),  # fewer hops than proxies: REMOTE_ADDR
        ("::1", "2001:db8::7", 1, "2001:db8::7"),
        ("10.0.0.2", "::ffff:203.0.113.5", 1, "203.0.113.5"),
    ],
)
def test_client_ip(settings, remote, forwarded, proxies, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


@pytest.mark.parametrize(
    "address, source",
    [
        ("203.0.113.5", "203.0.113.5"),
        ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::"),  # its /64
        ("2001:DB8:1:2::1", "2001:db8:1:2::"),
        ("2001:db8:1:3::1", "2001:db8:1:3::"),
        ("::ffff:203.0.113.5", "203.0.113.5"),
        ("not an address", "0.0.0.0"),
    ],
)
def test_source_groups_ipv6_by_64(address, source):
    assert source_of(address) == source
