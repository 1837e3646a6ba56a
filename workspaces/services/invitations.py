"""Invitations: an owner sends, resends and revokes them; the invitee accepts, declines, or
signs up from the link (a signed nonce, stored hashed)."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from .. import audit
from ..models import Invitation, Membership, Role, User, Workspace
from ..permissions import OWN, require_role
from ..selectors import INVITATION_SALT, invitation_from_token, nonce_hash

INVITATION_DAYS = 7
MAX_PENDING_INVITATIONS = 100  # per workspace: an owner's typo loop, not a mailing list


def _invitation_email(email) -> str:
    email = (email or "").strip().lower()
    try:
        if len(email) > 254:
            raise ValidationError("too long")
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": "Enter a valid email address."}) from None
    return email


def _new_link(invitation: Invitation) -> str:
    """Give the invitation a fresh nonce and expiry; return the signed token for its link.
    Only the nonce's hash is stored, so an earlier link stops working."""
    nonce = secrets.token_urlsafe(32)
    invitation.nonce_hash = nonce_hash(nonce)
    invitation.sent_at = timezone.now()
    invitation.expires_at = invitation.sent_at + timedelta(days=INVITATION_DAYS)
    return signing.dumps(nonce, salt=INVITATION_SALT)


def _send_invitation_email(invitation: Invitation, token: str, base_url: str | None) -> None:
    base = (base_url or settings.PLAYBOOK_BASE_URL).rstrip("/")
    inviter = invitation.invited_by
    context = {
        "invitation": invitation,
        "inviter": inviter.get_full_name() if inviter else "An owner",
        "link": base + reverse("invitation", kwargs={"token": token}),
    }
    # A header cannot hold a line break: a name is folded onto one line.
    subject = " ".join(f"{context['inviter']} invited you to {invitation.workspace.name}".split())
    send_mail(
        subject,
        render_to_string("workspaces/email/invitation.txt", context),
        None,
        [invitation.email],
        html_message=render_to_string("workspaces/email/invitation.html", context),
    )


@audit.write_service
def invitation_send(
    *, workspace: Workspace, email: str, role: str, user: User, base_url: str | None = None
) -> Invitation:
    """Store a pending invitation and email its link.

    The answer never depends on whether the email has an account: no user is looked up here.
    The email is sent inside the transaction, so a mail server's refusal leaves nothing behind
    and the owner is never told "sent" for a mail that was not.
    """
    require_role(user, workspace, OWN, "manage members")
    email = _invitation_email(email)
    if role not in Role.values:
        raise ValidationError({"role": "Choose owner, admin or member."})
    # Lock the workspace: the duplicate and count checks below then hold under concurrency.
    workspace = Workspace.objects.select_for_update().get(pk=workspace.pk)
    if Membership.objects.filter(workspace=workspace, user__email__iexact=email).exists():
        raise ValidationError({"email": f"{email} is already a member of {workspace.name}."})
    pending = Invitation.objects.pending().filter(workspace=workspace)
    if pending.filter(email=email).exists():
        raise ValidationError(
            {"email": f"{email} has a pending invitation already: use Resend on Invitations."}
        )
    if pending.count() >= MAX_PENDING_INVITATIONS:
        raise ValidationError(
            f"{workspace.name} has {MAX_PENDING_INVITATIONS} pending invitations: "
            "revoke some before inviting more."
        )
    invitation = Invitation(workspace=workspace, email=email, role=role, invited_by=user)
    token = _new_link(invitation)
    invitation.save()
    audit.record(
        user=user,
        workspace=workspace,
        action="invitation.sent",
        obj=invitation,
        label=email,
        details={"role": role},
    )
    _send_invitation_email(invitation, token, base_url)
    return invitation


def _lock_pending(invitation: Invitation) -> Invitation:
    invitation = (
        Invitation.objects.select_for_update().select_related("workspace").get(pk=invitation.pk)
    )
    if not invitation.is_pending:
        raise ValidationError(f"The invitation of {invitation.email} is no longer pending.")
    return invitation


@audit.write_service
def invitation_resend(
    *, invitation: Invitation, user: User, base_url: str | None = None
) -> Invitation:
    """Email a new link with a new expiry; the previous link stops working."""
    require_role(user, invitation.workspace, OWN, "manage members")
    invitation = _lock_pending(invitation)
    token = _new_link(invitation)
    invitation.invited_by = user
    invitation.save(update_fields=["nonce_hash", "sent_at", "expires_at", "invited_by"])
    audit.record(
        user=user,
        workspace=invitation.workspace,
        action="invitation.sent",
        obj=invitation,
        label=invitation.email,
        details={"role": invitation.role, "resent": True},
    )
    _send_invitation_email(invitation, token, base_url)
    return invitation


@audit.write_service
def invitation_revoke(*, invitation: Invitation, user: User) -> Invitation:
    require_role(user, invitation.workspace, OWN, "manage members")
    invitation = _lock_pending(invitation)
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit.record(
        user=user,
        workspace=invitation.workspace,
        action="invitation.revoked",
        obj=invitation,
        label=invitation.email,
    )
    return invitation


def invitation_problem(invitation: Invitation | None) -> str | None:
    """Why a link cannot be used any more, in words for its landing page; None when it can."""
    if invitation is None:
        return (
            "This invitation link is not valid. If you were sent a newer email, use the link "
            "in it; otherwise ask the person who invited you to send a new invitation."
        )
    if invitation.accepted_at:
        return "This invitation has already been accepted."
    if invitation.declined_at:
        return "This invitation was declined."
    if invitation.revoked_at:
        return f"This invitation to {invitation.workspace.name} was withdrawn."
    if invitation.is_expired:
        return (
            f"This invitation to {invitation.workspace.name} has expired. "
            "Ask the person who invited you to send it again."
        )
    return None


def _usable(token: str) -> Invitation:
    """The link's invitation, locked, if it can still be used; else a clear refusal."""
    invitation = invitation_from_token(token, lock=True)
    problem = invitation_problem(invitation)
    if problem:
        raise ValidationError(problem)
    return invitation


def invitation_check_invitee(invitation: Invitation, account) -> None:
    """Refuse anyone but the invited person, logged in (the landing page asks it first)."""
    if account is None or not account.is_authenticated or not account.is_active:
        raise ValidationError("Log in to answer this invitation.")
    if account.email.lower() != invitation.email:
        raise ValidationError(
            f"This invitation is for {invitation.email}, but you are logged in as "
            f"{account.email}. Log out and open the link again to answer it."
        )


def _join(invitation: Invitation, user: User) -> Membership:
    membership = Membership.objects.create(
        workspace=invitation.workspace, user=user, role=invitation.role
    )
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    user.last_workspace = invitation.workspace
    user.save(update_fields=["last_workspace"])
    audit.record(
        user=user,
        workspace=invitation.workspace,
        action="invitation.accepted",
        obj=invitation,
        label=invitation.email,
        details={"role": invitation.role},
    )
    return membership


@transaction.atomic
def invitation_accept(*, token: str, user: User) -> Membership:
    """The logged-in invitee joins with the invited role. The link is then used up."""
    invitation = _usable(token)
    invitation_check_invitee(invitation, user)
    if Membership.objects.filter(workspace=invitation.workspace, user=user).exists():
        raise ValidationError(f"You are already a member of {invitation.workspace.name}.")
    return _join(invitation, user)


@transaction.atomic
def invitation_decline(*, token: str, user: User) -> Invitation:
    invitation = _usable(token)
    invitation_check_invitee(invitation, user)
    invitation.declined_at = timezone.now()
    invitation.save(update_fields=["declined_at"])
    audit.record(
        user=user,
        workspace=invitation.workspace,
        action="invitation.declined",
        obj=invitation,
        label=invitation.email,
    )
    return invitation


def _full_name(full_name) -> str:
    full_name = " ".join((full_name or "").split())  # one line: it is shown in lists and mail
    if not full_name:
        raise ValidationError({"full_name": "Enter your name."})
    if len(full_name) > 150:
        raise ValidationError({"full_name": "A name can be at most 150 characters."})
    return full_name


@transaction.atomic
def invitation_sign_up(*, token: str, full_name: str, password: str, user) -> User:
    """A person without an account accepts by choosing a name and a password: they become a
    user and a member at once. `user` is whoever acts now and must not be logged in."""
    invitation = _usable(token)
    if user is not None and user.is_authenticated:
        raise ValidationError(
            f"You are logged in as {user.email}: log out to create a new account."
        )
    if User.objects.filter(email__iexact=invitation.email).exists():
        raise ValidationError(
            f"An account with {invitation.email} exists already: log in to accept."
        )
    new = User(email=invitation.email, full_name=_full_name(full_name))
    try:
        validate_password(password or "", user=new)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from None
    new.set_password(password)
    new.save()
    _join(invitation, new)
    return new
