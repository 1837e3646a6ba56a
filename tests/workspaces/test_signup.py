"""Public sign-up (workspaces/services/signup.py): the account, its workspace, the emailed link,
resend, the limits per source and per address, the setting that closes it; and the invite
form's roles (Member first, Owner confirmed)."""

import re
import threading
import time
from datetime import timedelta

import pytest
import time_machine
from django.core import signing
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from tests.conftest import messages_of, postgres_only
from tests.factories import PASSWORD, UserFactory
from tests.workspaces.test_invitations import invite
from workspaces import services
from workspaces.models import AuditEvent, Invitation, Membership, Role, User, Workspace

pytestmark = pytest.mark.django_db

GOOD = {
    "full_name": "Rosa Diaz",
    "business_name": "Diaz Plumbing",
    "country": "GB",
    "email": "Rosa@Example.test",
    "password": "a long enough passphrase 42",
}


def sign_up(client, source="127.0.0.1", **changes):
    return client.post(reverse("signup"), {**GOOD, **changes}, REMOTE_ADDR=source)


def link_of(mail) -> str:
    return re.search(r"http://testserver(/accounts/verify/\S+/)", mail.body).group(1)


def state():
    return (User.objects.count(), Workspace.objects.count(), Membership.objects.count())


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


# Sign-up --------------------------------------------------------------------------------------


def test_the_page_has_labelled_fields_and_a_country_select(client):
    html = client.get(reverse("signup"), HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.8").text
    for field, label in (
        ("full_name", "Your name"),
        ("business_name", "Business name"),
        ("country", "Country"),
        ("email", "Email"),
        ("password", "Password"),
    ):
        assert f'<label for="id_{field}">{label}</label>' in html
    assert '<option value="GB" selected>United Kingdom</option>' in html
    assert '<option value="US">United States</option>' in html
    assert 'autocomplete="new-password"' in html


def test_sign_up_creates_an_unverified_owner_and_workspace_and_emails_a_link(client, mailoutbox):
    response = sign_up(client)
    assert response.status_code == 302 and response.url == reverse("signup_sent")
    assert not logged_in(client)
    user = User.objects.get(email="rosa@example.test")
    assert (user.full_name, user.email_verified_at) == ("Rosa Diaz", None)
    workspace = user.last_workspace
    assert (workspace.name, workspace.country, workspace.zone) == (
        "Diaz Plumbing",
        "GB",
        "Europe/London",
    )
    assert Membership.objects.get(user=user).role == Role.OWNER
    [mail] = mailoutbox
    assert mail.to == ["rosa@example.test"] and mail.subject == "Verify your email for Playbook"
    assert "(Europe/London)" in mail.body  # the expiry, in the workspace's zone
    page = client.get(response.url).text
    assert "Check your email" in page and "rosa@example.test" in page

    # Not verified: the right password is refused, with the way to a new link.
    login = client.post(reverse("login"), {"username": user.email, "password": GOOD["password"]})
    assert login.status_code == 200 and not logged_in(client)
    assert "Your email address is not verified yet" in login.text
    assert f'action="{reverse("signup_resend")}"' in login.text
    assert "Send the link again" in login.text


def test_the_link_verifies_logs_in_and_opens_the_workspace(client, mailoutbox):
    sign_up(client)
    response = client.get(link_of(mailoutbox[0]))
    assert response.status_code == 302 and response.url == reverse("home")
    assert logged_in(client)
    user = User.objects.get(email="rosa@example.test")
    assert user.email_verified_at is not None
    assert "Your email address is verified. Welcome to Playbook!" in messages_of(response)
    home = client.get(reverse("jobs:list"))
    assert home.status_code == 200 and home.context["current_workspace"] == user.last_workspace
    # Used up: the link says so, and the password now logs in.
    client.logout()
    again = client.get(link_of(mailoutbox[0]))
    assert again.status_code == 410 and "already verified" in again.text
    client.post(reverse("login"), {"username": user.email, "password": GOOD["password"]})
    assert logged_in(client)


def test_an_expired_link_is_refused_and_offers_a_new_one(client, mailoutbox):
    sign_up(client)
    link = link_of(mailoutbox[0])
    with time_machine.travel(timezone.now() + timedelta(days=services.VERIFY_DAYS, minutes=1)):
        response = client.get(link)
    assert response.status_code == 410
    assert "This verification link has expired" in response.text
    assert 'value="rosa@example.test"' in response.text  # the new-link form, prefilled
    assert not logged_in(client)
    assert User.objects.get(email="rosa@example.test").email_verified_at is None


@pytest.mark.parametrize(
    "token",
    [
        "x",
        signing.dumps({"u": 1, "f": "x"}, salt="another salt"),
        signing.dumps({"u": 10**9, "f": "x"}, salt="workspaces.signup.verify"),
        signing.dumps(["not", "a", "dict"], salt="workspaces.signup.verify"),
    ],
    ids=["garbage", "another salt", "no such account", "not a dict"],  # the same in every worker
)
def test_a_tampered_link_is_refused(client, mailoutbox, token):
    sign_up(client)
    response = client.get(reverse("signup_verify", args=[token]))
    assert response.status_code == 404
    assert "This verification link is not valid" in response.text
    assert not logged_in(client)


def test_a_link_for_another_fingerprint_is_refused(client, mailoutbox):
    sign_up(client)
    user = User.objects.get(email="rosa@example.test")
    token = signing.dumps({"u": user.pk, "f": "0" * 32}, salt="workspaces.signup.verify")
    response = client.get(reverse("signup_verify", args=[token]))
    assert response.status_code == 410 and "no longer works" in response.text
    user.refresh_from_db()
    assert user.email_verified_at is None


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"full_name": "  "}, "full_name", "This field is required."),
        ({"business_name": ""}, "business_name", "This field is required."),
        ({"country": "XX"}, "country", "Select a valid choice."),
        ({"email": "not-an-email"}, "email", "Enter a valid email address."),
        ({"password": "12345678"}, "password", "This password is too common."),
        ({"password": "short"}, "password", "This password is too short."),
        ({"password": "rosa@example.test"}, "password", "too similar"),
        ({"full_name": "Rosa\x00"}, None, "NUL"),
    ],
)
def test_bad_input_is_shown_and_changes_nothing(client, mailoutbox, changes, field, message):
    before = state()
    response = sign_up(client, **changes)
    assert response.status_code in (200, 400)
    assert message in response.text
    if field:
        assert field in response.context["form"].errors
    assert state() == before and mailoutbox == []
    assert not AuditEvent.objects.exists()


def test_a_known_email_changes_nothing_and_tells_the_address_not_the_page(client, mailoutbox):
    existing = UserFactory(email="rosa@example.test", full_name="Old")
    before = state()
    response = sign_up(client, email="ROSA@example.test")
    assert response.status_code == 302 and response.url == reverse("signup_sent")
    assert state() == before
    existing.refresh_from_db()
    assert existing.check_password(PASSWORD) and existing.full_name == "Old"
    [mail] = mailoutbox
    assert mail.to == ["rosa@example.test"]
    assert mail.subject == "Someone tried to sign up with your email"
    assert "http://testserver/accounts/password_reset/" in mail.body
    assert "/accounts/verify/" not in mail.body
    # The page reads the same as for a new address.
    new_client_page = client.get(reverse("signup_sent")).text
    assert "Check your email" in new_client_page and "rosa@example.test" in new_client_page


def test_signed_up_and_verified_are_audited(client, mailoutbox):
    sign_up(client)
    user = User.objects.get(email="rosa@example.test")
    client.get(link_of(mailoutbox[0]))
    events = list(AuditEvent.objects.order_by("pk"))
    assert [(e.action, e.actor, e.workspace, e.object_label) for e in events] == [
        ("user.signed_up", user, user.last_workspace, "rosa@example.test"),
        ("user.email_verified", user, user.last_workspace, "rosa@example.test"),
    ]
    assert events[0].details == {"business": "Diaz Plumbing", "country": "GB"}
    assert events[1].details == {"via": "signup link"}


def test_a_logged_in_person_is_sent_home(client, owner):
    client.force_login(owner)
    response = client.get(reverse("signup"))
    assert response.status_code == 302
    with pytest.raises(Exception, match="log out to sign up"):
        services.signup(**GOOD, source="192.0.2.1", user=owner)


def test_a_refused_mail_leaves_no_account(client, settings):
    settings.EMAIL_BACKEND = "tests.workspaces.test_signup.RefusingBackend"
    with pytest.raises(OSError):
        sign_up(client)
    assert state() == (0, 0, 0)


class RefusingBackend:
    def __init__(self, **kwargs):
        pass

    def send_messages(self, messages):
        raise OSError("the mail server refused")


# Resend -----------------------------------------------------------------------------------


def test_resend_sends_a_new_link_that_works(client, mailoutbox):
    sign_up(client)
    response = client.post(reverse("signup_resend"), {"email": "rosa@EXAMPLE.test"})
    assert response.status_code == 302 and response.url == reverse("signup_sent")
    assert len(mailoutbox) == 2 and mailoutbox[1].to == ["rosa@example.test"]
    client.get(link_of(mailoutbox[1]))
    assert logged_in(client)


@pytest.mark.parametrize("who", ["unknown", "verified"])
def test_resend_answers_the_same_and_sends_nothing_for_other_addresses(client, mailoutbox, who):
    if who == "verified":
        UserFactory(email="rosa@example.test")
    response = client.post(reverse("signup_resend"), {"email": "rosa@example.test"})
    assert response.status_code == 302 and response.url == reverse("signup_sent")
    assert mailoutbox == []


def test_resend_is_limited_per_source(client, mailoutbox, settings):
    settings.SIGNUP_SOURCE_LIMIT = 2
    for _ in range(2):
        client.post(reverse("signup_resend"), {"email": "nobody@example.test"})
    response = client.post(reverse("signup_resend"), {"email": "nobody@example.test"})
    assert response.status_code == 429
    assert "Too many requests for a new link from your network" in response.text
    other = client.post(
        reverse("signup_resend"), {"email": "nobody@example.test"}, REMOTE_ADDR="192.0.2.9"
    )
    assert other.status_code == 302  # another source has its own count


def test_emails_to_one_address_are_limited_silently(client, mailoutbox, settings):
    settings.SIGNUP_EMAIL_LIMIT = 2
    sign_up(client)
    for n in range(3):  # from different sources: the address's limit holds anyway
        response = client.post(
            reverse("signup_resend"), {"email": GOOD["email"]}, REMOTE_ADDR=f"192.0.2.{n + 1}"
        )
        assert response.status_code == 302  # the same answer, sent or not
    assert len(mailoutbox) == 2


# The per-source limit on sign-ups -----------------------------------------------------------


def test_sign_ups_are_limited_per_source_and_bad_input_does_not_count(client, settings):
    settings.SIGNUP_SOURCE_LIMIT = 2
    sign_up(client, password="short")  # refused before counting
    for n in range(2):
        assert sign_up(client, email=f"p{n}@example.test").status_code == 302
    before = state()
    response = sign_up(client, email="p9@example.test")
    assert response.status_code == 429
    assert "Too many sign-ups from your network in the last hour. Try again in" in response.text
    assert state() == before
    # Another IPv6 /64 is another source; an address inside the same /64 is not.
    assert sign_up(client, "2001:db8:1:2::1", email="v1@example.test").status_code == 302
    assert sign_up(client, "2001:db8:1:2::ff", email="v2@example.test").status_code == 302
    assert sign_up(client, "2001:db8:1:2::9", email="v3@example.test").status_code == 429


# The setting --------------------------------------------------------------------------------


def test_closed_sign_up(client, settings, mailoutbox):
    settings.PLAYBOOK_PUBLIC_SIGNUP = False
    page = client.get(reverse("signup"))
    assert page.status_code == 404 and "Sign-up is closed" in page.text
    assert sign_up(client).status_code == 404
    assert state() == (0, 0, 0) and mailoutbox == []
    assert reverse("signup") not in client.get(reverse("login")).text
    with pytest.raises(Exception, match="Sign-up is closed"):
        services.signup(**GOOD, source="192.0.2.1", user=None)


def test_open_sign_up_is_linked_from_the_login_page(client):
    assert f'<a href="{reverse("signup")}">Sign up</a>' in client.get(reverse("login")).text


# Other ways in count as verified ----------------------------------------------------------------


def test_accounts_made_otherwise_are_verified(workspace, owner):
    assert owner.email_verified_at is not None
    assert User.objects.create_user("cmd@example.test", "x").email_verified_at is not None


def test_an_invitation_sign_up_is_verified(workspace, owner):
    _, token = invite(workspace, owner, "new@example.test")
    user = services.invitation_sign_up(
        token=token, full_name="New", password=GOOD["password"], user=None
    )
    assert user.email_verified_at is not None


def test_a_password_reset_verifies_a_waiting_account(client, mailoutbox):
    sign_up(client)
    client.post(reverse("password_reset"), {"email": "rosa@example.test"})
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", mailoutbox[-1].body).group(1)
    form = client.get(link, follow=True)
    new = "another long passphrase 77"
    client.post(form.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    user = User.objects.get(email="rosa@example.test")
    assert user.email_verified_at is not None
    assert AuditEvent.objects.filter(action="user.email_verified").get().details == {
        "via": "password reset"
    }


# The invite form: Member first, Owner confirmed ----------------------------------------------


def test_the_invite_roles_start_with_member(owner_client):
    html = owner_client.get(reverse("workspaces:members")).text
    options = re.findall(
        r'<option value="(\w+)"', html.split('<h2 id="invite">Invite someone</h2>')[1]
    )
    assert options == ["member", "admin", "owner"]
    assert '<option value="member" selected>' in html


def test_inviting_an_owner_asks_to_confirm_first(owner_client, workspace, mailoutbox):
    url = reverse("workspaces:invite")
    ask = owner_client.post(url, {"email": "boss@example.test", "role": "owner"})
    assert ask.status_code == 200
    assert "Invite boss@example.test as Owner?" in ask.text
    assert "Owners can do everything" in ask.text
    assert not Invitation.objects.exists() and mailoutbox == []
    assert 'name="email" value="boss@example.test"' in ask.text
    done = owner_client.post(url, {"email": "boss@example.test", "role": "owner", "confirm": "yes"})
    assert done.status_code == 302
    assert Invitation.objects.get().role == Role.OWNER and len(mailoutbox) == 1


@pytest.mark.parametrize("role", ["member", "admin"])
def test_other_roles_are_invited_at_once(owner_client, role):
    owner_client.post(reverse("workspaces:invite"), {"email": "x@example.test", "role": role})
    assert Invitation.objects.get().role == role


def test_support_staff_find_unverified_accounts_in_the_admin(staff_client, mailoutbox):
    services.signup(**GOOD, source="192.0.2.1", user=None)
    UserFactory(email="verified@example.test")
    url = reverse("admin:workspaces_user_changelist")
    html = staff_client.get(url, {"email_verified_at__isempty": "1"}).text
    assert "rosa@example.test" in html and "verified@example.test" not in html


@postgres_only()
@pytest.mark.django_db(transaction=True)
def test_two_sign_ups_racing_for_one_address_make_one_account(mailoutbox):
    """The second waits on the first's uncommitted row, then answers as for a known address."""
    started = threading.Event()

    def first():
        try:
            with transaction.atomic():
                services.signup(**GOOD, source="192.0.2.1", user=None)
                started.set()
                time.sleep(0.5)  # still uncommitted while the second signs up
        finally:
            connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    started.wait(5)
    assert services.signup(**GOOD, source="192.0.2.2", user=None) == "rosa@example.test"
    thread.join()
    assert state() == (1, 1, 1)
    assert sorted(m.subject for m in mailoutbox) == [
        "Someone tried to sign up with your email",
        "Verify your email for Playbook",
    ]


@pytest.mark.django_db(transaction=True)
def test_the_migration_marks_existing_accounts_verified():
    from django.db.migrations.executor import MigrationExecutor

    before, after = [("workspaces", "0011_alerts")], [("workspaces", "0012_user_email_verified_at")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    OldUser = executor.loader.project_state(before).apps.get_model("workspaces", "User")
    joined = timezone.now() - timedelta(days=40)
    OldUser.objects.create(email="old@example.test", password="x", date_joined=joined)
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())  # back to the latest
    assert User.objects.get(email="old@example.test").email_verified_at == joined
