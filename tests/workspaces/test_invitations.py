"""Invitations with consent: the services' rules and refusals, the emailed link, sign-up."""

import re
from datetime import timedelta

import pytest
from django.core import mail, signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory
from workspaces import services
from workspaces.models import AuditEvent, Invitation, Membership, Role, User
from workspaces.permissions import RoleRequired
from workspaces.selectors import INVITATION_SALT

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "a long enough passphrase 42"


def token_of(message) -> str:
    """The token of the invitation link in an email."""
    return re.search(r"/invitations/([^/\s]+)/", message.body).group(1)


def invite(workspace, owner, email="ana@example.test", role=Role.ADMIN):
    invitation = services.invitation_send(workspace=workspace, email=email, role=role, user=owner)
    return invitation, token_of(mail.outbox[-1])


def state() -> tuple:
    """What an invitation action may change: invitations, members, users, audit events, mail."""
    invitations = list(Invitation.objects.order_by("pk").values())
    members = list(Membership.objects.order_by("pk").values_list("user", "workspace", "role"))
    users = list(User.objects.order_by("pk").values_list("email", "full_name", "last_workspace"))
    # A refused attempt is itself recorded (write.refused); what must not change is the rest.
    changes = AuditEvent.objects.exclude(action="write.refused").count()
    return invitations, members, users, changes, len(mail.outbox)


def actions() -> list[str]:
    return list(AuditEvent.objects.order_by("pk").values_list("action", flat=True))


# Sending -----------------------------------------------------------------------------------


def test_send_stores_a_pending_invitation_and_emails_the_link(workspace, owner):
    owner.full_name = "Olga Owner"
    owner.save()
    invitation = services.invitation_send(
        workspace=workspace, email="  Ana@Example.TEST ", role=Role.ADMIN, user=owner
    )
    assert (invitation.email, invitation.role, invitation.invited_by) == (
        "ana@example.test",
        Role.ADMIN,
        owner,
    )
    assert invitation.is_pending and not workspace.memberships.filter(role=Role.ADMIN).exists()
    assert invitation.expires_at - invitation.sent_at == timedelta(days=7)
    [message] = mail.outbox
    assert message.to == ["ana@example.test"]
    assert message.subject == f"Olga Owner invited you to {workspace.name}"
    link = f"http://127.0.0.1:8000/invitations/{token_of(message)}/"
    for text in (workspace.name, "Olga Owner", "as Admin", link, "expires on"):
        assert text in message.body
    assert link in message.alternatives[0][0]  # the HTML part
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.object_label, event.details) == (
        "invitation.sent",
        owner,
        "ana@example.test",
        {"role": "admin"},
    )


def test_the_link_holds_no_readable_nonce_and_only_its_hash_is_stored(workspace, owner):
    invitation, token = invite(workspace, owner)
    nonce = signing.loads(token, salt=INVITATION_SALT)
    assert nonce not in invitation.nonce_hash and len(invitation.nonce_hash) == 64


def _send_and_count(workspace, owner, email):
    with CaptureQueriesContext(connection) as queries:
        services.invitation_send(workspace=workspace, email=email, role=Role.MEMBER, user=owner)
    return len(queries)


def test_the_answer_is_the_same_whether_the_email_has_an_account(workspace, owner):
    """Same return, same email text, same queries: nothing tells an account exists."""
    UserFactory(email="known@example.test")
    known = _send_and_count(workspace, owner, "known@example.test")
    unknown = _send_and_count(workspace, owner, "unknown@example.test")
    assert known == unknown
    first, second = mail.outbox

    def neutral(message):
        return message.body.replace(token_of(message), "T").replace("unknown@", "known@")

    assert neutral(first) == neutral(second) and first.subject == second.subject
    assert not Membership.objects.filter(user__email="known@example.test").exists()


@pytest.mark.parametrize(
    ("email", "role", "message"),
    [
        ("not-an-email", Role.MEMBER, "Enter a valid email address."),
        ("", Role.MEMBER, "Enter a valid email address."),
        ("a" * 250 + "@x.test", Role.MEMBER, "Enter a valid email address."),
        ("ana@example.test", "superuser", "Choose owner, admin or member."),
        ("{owner}", Role.MEMBER, "{owner} is already a member of {workspace}."),
        ("PENDING@example.test", Role.MEMBER, "has a pending invitation already: use Resend"),
    ],
)
def test_send_refusals_change_nothing(workspace, owner, email, role, message):
    invite(workspace, owner, email="pending@example.test")
    before = state()
    with pytest.raises(ValidationError) as exc:
        services.invitation_send(
            workspace=workspace, email=email.format(owner=owner.email), role=role, user=owner
        )
    assert message.format(owner=owner.email, workspace=workspace.name) in " ".join(
        exc.value.messages
    )
    assert state() == before


def test_send_refuses_more_than_the_pending_limit(workspace, owner, monkeypatch):
    monkeypatch.setattr(services.invitations, "MAX_PENDING_INVITATIONS", 2)
    invite(workspace, owner, "a@example.test")
    invite(workspace, owner, "b@example.test")
    before = state()
    with pytest.raises(ValidationError, match="has 2 pending invitations: revoke some"):
        invite(workspace, owner, "c@example.test")
    assert state() == before


def test_a_mail_server_refusal_leaves_no_invitation(workspace, owner, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # nothing listens there
    before = state()
    with pytest.raises(OSError):
        services.invitation_send(
            workspace=workspace, email="ana@example.test", role=Role.MEMBER, user=owner
        )
    assert state() == before


def test_the_database_allows_one_pending_invitation_per_email(workspace, owner):
    invitation, _ = invite(workspace, owner)
    with pytest.raises(IntegrityError), transaction.atomic():
        Invitation.objects.create(
            workspace=workspace, email=invitation.email, nonce_hash="x" * 64,
            expires_at=timezone.now(),
        )  # fmt: skip
    invitation.revoked_at = timezone.now()
    invitation.save()
    invite(workspace, owner)  # a new one once the first has ended


def test_the_database_refuses_an_upper_case_email(workspace):
    with pytest.raises(IntegrityError), transaction.atomic():
        Invitation.objects.create(
            workspace=workspace, email="Ana@example.test", nonce_hash="y" * 64,
            expires_at=timezone.now(),
        )  # fmt: skip


# Accepting, declining ------------------------------------------------------------------------


def test_the_invitee_accepts_and_joins_with_the_role(workspace, owner):
    invitation, token = invite(workspace, owner)
    ana = UserFactory(email="Ana@Example.test")
    membership = services.invitation_accept(token=token, user=ana)
    assert (membership.workspace, membership.role) == (workspace, Role.ADMIN)
    invitation.refresh_from_db()
    ana.refresh_from_db()
    assert invitation.accepted_at is not None and ana.last_workspace == workspace
    assert actions() == ["invitation.sent", "invitation.accepted"]
    assert AuditEvent.objects.first().actor == ana


def test_a_link_works_once(workspace, owner):
    _, token = invite(workspace, owner)
    ana = UserFactory(email="ana@example.test")
    services.invitation_accept(token=token, user=ana)
    before = state()
    for answer in (services.invitation_accept, services.invitation_decline):
        with pytest.raises(ValidationError, match="already been accepted"):
            answer(token=token, user=ana)
    assert state() == before


def test_a_wrong_account_is_told_and_changes_nothing(workspace, owner):
    _, token = invite(workspace, owner)
    bob = UserFactory(email="bob@example.test")
    before = state()
    for answer in (services.invitation_accept, services.invitation_decline):
        with pytest.raises(ValidationError) as exc:
            answer(token=token, user=bob)
        assert exc.value.messages == [
            "This invitation is for ana@example.test, but you are logged in as bob@example.test. "
            "Log out and open the link again to answer it."
        ]
    assert state() == before


def test_an_expired_link_is_told_and_changes_nothing(workspace, owner):
    invitation, token = invite(workspace, owner)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    ana = UserFactory(email="ana@example.test")
    before = state()
    with pytest.raises(ValidationError, match=f"invitation to {workspace.name} has expired"):
        services.invitation_accept(token=token, user=ana)
    with pytest.raises(ValidationError, match="has expired"):
        services.invitation_sign_up(token=token, full_name="A", password=GOOD_PASSWORD, user=None)
    assert state() == before


def test_a_revoked_link_is_told_and_changes_nothing(workspace, owner):
    invitation, token = invite(workspace, owner)
    services.invitation_revoke(invitation=invitation, user=owner)
    assert actions()[-1] == "invitation.revoked"
    ana = UserFactory(email="ana@example.test")
    before = state()
    with pytest.raises(ValidationError, match=f"invitation to {workspace.name} was withdrawn"):
        services.invitation_accept(token=token, user=ana)
    with pytest.raises(ValidationError, match="no longer pending"):
        services.invitation_revoke(invitation=invitation, user=owner)
    with pytest.raises(ValidationError, match="no longer pending"):
        services.invitation_resend(invitation=invitation, user=owner)
    assert state() == before


def test_resend_replaces_the_link_and_renews_the_expiry(workspace, owner):
    invitation, old = invite(workspace, owner)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    services.invitation_resend(invitation=invitation, user=owner)
    new = token_of(mail.outbox[-1])
    invitation.refresh_from_db()
    assert not invitation.is_expired and old != new
    assert actions() == ["invitation.sent", "invitation.sent"]
    assert AuditEvent.objects.first().details == {"role": "admin", "resent": True}
    ana = UserFactory(email="ana@example.test")
    with pytest.raises(ValidationError, match="This invitation link is not valid"):
        services.invitation_accept(token=old, user=ana)
    services.invitation_accept(token=new, user=ana)
    assert ana.memberships.get().workspace == workspace


@pytest.mark.parametrize(
    "token",
    ["", "x", "bm9uY2U:forged", signing.dumps("nonce", salt="other")],
    # Named: a signed token carries the time it was made, and parallel workers must collect
    # the same test ids (pytest-xdist), whatever second each one collected in.
    ids=["empty", "garbage", "bad signature", "other salt"],
)
def test_a_forged_link_is_not_valid(workspace, owner, token):
    invite(workspace, owner)
    ana = UserFactory(email="ana@example.test")
    before = state()
    with pytest.raises(ValidationError, match="This invitation link is not valid"):
        services.invitation_accept(token=token, user=ana)
    assert state() == before


def test_decline_ends_the_invitation_without_joining(workspace, owner):
    invitation, token = invite(workspace, owner)
    ana = UserFactory(email="ana@example.test")
    services.invitation_decline(token=token, user=ana)
    invitation.refresh_from_db()
    assert invitation.declined_at is not None and not ana.memberships.exists()
    assert actions()[-1] == "invitation.declined"
    with pytest.raises(ValidationError, match="was declined"):
        services.invitation_accept(token=token, user=ana)


def test_a_member_already_is_told(workspace, owner):
    _, token = invite(workspace, owner)
    MembershipFactory(workspace=workspace, user__email="ana@example.test", role=Role.MEMBER)
    before = state()
    with pytest.raises(ValidationError, match=f"already a member of {workspace.name}"):
        services.invitation_accept(token=token, user=User.objects.get(email="ana@example.test"))
    assert state() == before


def test_anonymous_cannot_accept(workspace, owner):
    from django.contrib.auth.models import AnonymousUser

    _, token = invite(workspace, owner)
    before = state()
    with pytest.raises(ValidationError, match="Log in to answer"):
        services.invitation_accept(token=token, user=AnonymousUser())
    assert state() == before


def test_an_owner_of_another_workspace_cannot_manage_its_invitations(workspace, owner):
    invitation, _ = invite(workspace, owner)
    outsider = MembershipFactory(workspace=WorkspaceFactory()).user
    before = state()
    with pytest.raises(RoleRequired):
        services.invitation_revoke(invitation=invitation, user=outsider)
    assert state() == before


# Signing up through an invitation ------------------------------------------------------------


def test_sign_up_makes_a_user_and_a_member(workspace, owner):
    invitation, token = invite(workspace, owner)
    ana = services.invitation_sign_up(
        token=token, full_name="  Ana   Lima ", password=GOOD_PASSWORD, user=None
    )
    assert (ana.email, ana.full_name, ana.last_workspace) == (
        "ana@example.test",
        "Ana Lima",
        workspace,
    )
    assert ana.check_password(GOOD_PASSWORD)
    assert ana.memberships.get().role == Role.ADMIN
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None
    assert actions() == ["invitation.sent", "invitation.accepted"]


@pytest.mark.parametrize(
    ("full_name", "password", "field", "message"),
    [
        ("Ana", "short", "password", "This password is too short."),
        ("Ana", "password123", "password", "This password is too common."),
        ("Ana", "ana@example.test", "password", "too similar to the email address"),
        ("   ", GOOD_PASSWORD, "full_name", "Enter your name."),
        ("x" * 151, GOOD_PASSWORD, "full_name", "at most 150 characters"),
    ],
)
def test_sign_up_refusals_change_nothing(workspace, owner, full_name, password, field, message):
    _, token = invite(workspace, owner)
    before = state()
    with pytest.raises(ValidationError) as exc:
        services.invitation_sign_up(token=token, full_name=full_name, password=password, user=None)
    assert message in " ".join(exc.value.message_dict[field])
    assert state() == before


def test_sign_up_refuses_an_existing_account_and_a_logged_in_user(workspace, owner):
    _, token = invite(workspace, owner)
    before = state()
    with pytest.raises(ValidationError, match="You are logged in as"):
        services.invitation_sign_up(token=token, full_name="A", password=GOOD_PASSWORD, user=owner)
    assert state() == before
    UserFactory(email="ANA@example.test")
    before = state()
    with pytest.raises(ValidationError, match="An account with ana@example.test exists already"):
        services.invitation_sign_up(token=token, full_name="A", password=GOOD_PASSWORD, user=None)
    assert state() == before


# The user's own settings -----------------------------------------------------------------------


def test_profile_sets_the_display_name(owner):
    services.user_update_profile(full_name=" Olga\nOwner ", user=owner)
    owner.refresh_from_db()
    assert owner.full_name == "Olga Owner"
    with pytest.raises(ValidationError, match="Enter your name."):
        services.user_update_profile(full_name="", user=owner)
    owner.refresh_from_db()
    assert owner.full_name == "Olga Owner"


def test_remember_workspace_only_where_a_member(owner, workspace, other_workspace):
    with pytest.raises(RoleRequired):
        services.user_remember_workspace(workspace=other_workspace, user=owner)
    owner.refresh_from_db()
    assert owner.last_workspace is None
    services.user_remember_workspace(workspace=workspace, user=owner)
    owner.refresh_from_db()
    assert owner.last_workspace == workspace
