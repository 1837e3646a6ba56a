import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from axes.utils import reset as axes_reset
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
from django.utils.text import slugify

from . import audit
from .models import ApiToken, Invitation, Membership, Role, SourceLockout, User, Workspace
from .permissions import OWN, READ, RoleRequired, is_support, require_role
from .phones import DEFAULT_REGION, normalize_region
from .selectors import INVITATION_SALT, invitation_from_token, nonce_hash
from .signals import member_removing
from .sources import describe
from .timezones import is_known


def _unique_slug(name: str) -> str:
    base = slugify(name)[:40] or "workspace"
    slug, n = base, 2
    while Workspace.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def workspace_create(
    *, name: str, owner: User, slug: str = "", country: str = DEFAULT_REGION
) -> Workspace:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "A workspace needs a name."})
    if len(name) > 100:
        raise ValidationError({"name": "A workspace name can be at most 100 characters."})
    country = normalize_region(country)
    slug = slug or _unique_slug(name)
    workspace = Workspace(name=name, slug=slug, country=country)
    workspace.full_clean()
    workspace.save()
    Membership.objects.create(user=owner, workspace=workspace, role=Role.OWNER)
    return workspace


def _locked(membership: Membership) -> Membership:
    # Lock the workspace row first so two owners cannot demote each other at the same moment.
    Workspace.objects.select_for_update().get(pk=membership.workspace_id)
    return Membership.objects.select_for_update().get(pk=membership.pk)


@audit.write_service
def membership_add(*, workspace: Workspace, email: str, role: str, user: User) -> Membership:
    """Support staff add an existing user directly (the admin only). Owners cannot: they send
    an invitation (invitation_send), and nobody joins without accepting it."""
    require_role(user, workspace, OWN, "manage members")
    if not is_support(user):
        raise RoleRequired(
            f"Only support staff of {workspace.name} can add a member directly; "
            "owners send an invitation."
        )
    email = (email or "").strip()
    if role not in Role.values:
        raise ValidationError({"role": "Choose owner, admin or member."})
    invitee = User.objects.filter(email__iexact=email, is_active=True).first()
    if invitee is None:
        raise ValidationError({"email": f"No user with the email “{email}”."})
    if Membership.objects.filter(workspace=workspace, user=invitee).exists():
        raise ValidationError({"email": f"{invitee.email} is already a member of this workspace."})
    return Membership.objects.create(workspace=workspace, user=invitee, role=role)


def membership_check_owner_remains(membership: Membership, new_role: str | None) -> None:
    """Refuse to demote (new_role) or remove (None) the workspace's last owner."""
    if membership.role != Role.OWNER or new_role == Role.OWNER:
        return
    owners = Membership.objects.filter(workspace_id=membership.workspace_id, role=Role.OWNER)
    if owners.count() <= 1:
        verb = "removed" if new_role is None else "demoted"
        raise ValidationError(f"The last owner cannot be {verb}. Make someone else an owner first.")


@audit.write_service
def membership_change_role(*, membership: Membership, role: str, user: User) -> Membership:
    require_role(user, membership.workspace, OWN, "manage members")
    if role not in Role.values:
        raise ValidationError({"role": "Choose owner, admin or member."})
    membership = _locked(membership)
    membership_check_owner_remains(membership, role)
    before, membership.role = membership.role, role
    membership.save(update_fields=["role"])
    _audit_member(user, membership, "member.role_changed", {"before": before, "after": role})
    return membership


@audit.write_service
def membership_remove(*, membership: Membership, user: User) -> None:
    require_role(user, membership.workspace, OWN, "manage members")
    membership = _locked(membership)
    membership_check_owner_remains(membership, None)
    member_removing.send(sender=Membership, membership=membership)
    # Recorded before the delete clears the pk; the same transaction either way.
    _audit_member(user, membership, "member.removed", {"role": membership.role})
    membership.delete()


def _audit_member(user: User, membership: Membership, action: str, details: dict) -> None:
    who = membership.user
    audit.record(
        user=user,
        workspace=membership.workspace,
        action=action,
        obj=membership,
        label=who.get_full_name() or who.email,
        details={"email": who.email, **details},
    )


# API tokens --------------------------------------------------------------------------------

TOKEN_PREFIX = "pb_"


def hash_token(raw: str) -> str:
    # Tokens are 256 random bits: a plain SHA-256 is enough (no password stretching needed).
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    raw: str  # the secret: shown once, never stored (only its hash is)


@audit.write_service
def api_token_create(*, workspace: Workspace, name: str, user: User) -> NewToken:
    """Return the token and its secret value, which is shown once and never stored."""
    require_role(user, workspace, OWN, "manage API tokens")
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the token a name, e.g. “Telephony runtime”."})
    if len(name) > 100:
        raise ValidationError({"name": "A token name can be at most 100 characters."})
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        workspace=workspace, name=name, prefix=raw[:10], key_hash=hash_token(raw), created_by=user
    )
    _audit_token(user, token, "token.created")
    return NewToken(token, raw)


def _audit_token(user: User, token: ApiToken, action: str) -> None:
    audit.record(
        user=user,
        workspace=token.workspace,
        action=action,
        obj=token,
        label=token.name,
        details={"prefix": token.prefix},
    )


@audit.write_service
def api_token_revoke(*, token: ApiToken, user: User) -> ApiToken:
    require_role(user, token.workspace, OWN, "manage API tokens")
    # The runtime reads the token on every request (callflows/live.py), so a revoked token is
    # refused by every process from the commit on: nothing cached to clear.
    token = ApiToken.objects.select_for_update().get(pk=token.pk)  # a double submit: one event
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        _audit_token(user, token, "token.revoked")
    return token


def api_token_workspace(raw: str) -> Workspace | None:
    """The workspace of an active token, in one query; None for an unknown or revoked token."""
    if not raw or not raw.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("workspace")
        .filter(key_hash=hash_token(raw), revoked_at__isnull=True)
        .first()
    )
    return token.workspace if token else None


# Invitations -------------------------------------------------------------------------------

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


# Call retention -----------------------------------------------------------------------------

RETENTION_MAX_DAYS = 3650  # the database's range too (workspace_call_retention_range)


def _days(value, what: str) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{what} must be a whole number of days.")
    if not 1 <= value <= RETENTION_MAX_DAYS:
        raise ValidationError(f"{what} must be between 1 and {RETENTION_MAX_DAYS:,} days.")
    return value


def retention_validate(*, call_days, transcript_days) -> dict:
    """The retention rule, field by field: calls are kept 1 to 3,650 days; transcripts (empty:
    as long as the calls) at most as long as the calls. Returns the clean values."""
    errors = {}
    try:
        call_days = _days(call_days, "Keep calls for")
    except ValidationError as exc:
        errors["call_retention_days"] = exc.messages
    if transcript_days in (None, ""):
        transcript_days = None
    else:
        try:
            transcript_days = _days(transcript_days, "Keep transcripts for")
        except ValidationError as exc:
            errors["transcript_retention_days"] = exc.messages
        else:
            if "call_retention_days" not in errors and transcript_days > call_days:
                errors["transcript_retention_days"] = [
                    f"Transcripts cannot be kept longer than the calls ({call_days:,} days): "
                    "enter fewer days, or leave it empty to keep them as long as the calls."
                ]
    if errors:
        raise ValidationError(errors)
    return {"call_retention_days": call_days, "transcript_retention_days": transcript_days}


@audit.write_service
def workspace_set_retention(
    *, workspace: Workspace, user: User, call_days, transcript_days
) -> Workspace:
    """How long the workspace keeps calls and their transcripts. Owners only: a shorter period
    makes the next prune_calls delete data. Saving the same values changes and records nothing."""
    require_role(user, workspace, OWN, "manage call retention")
    clean = retention_validate(call_days=call_days, transcript_days=transcript_days)
    current = Workspace.objects.select_for_update().get(pk=workspace.pk)
    before = {f: getattr(current, f) for f in clean}
    if before != clean:
        for field, value in clean.items():
            setattr(current, field, value)
        current.save(update_fields=list(clean))
        audit.record(
            user=user,
            workspace=current,
            action="workspace.retention_changed",
            obj=current,
            label=current.name,
            details={"before": before, "after": clean},
        )
    for field, value in clean.items():  # the caller's copy reads the stored values
        setattr(workspace, field, value)
    return current


def time_zone_validate(time_zone) -> str:
    """A zone typed by a person: "" (the country's main zone) or a known IANA name."""
    zone = str(time_zone or "").strip()
    if zone and (len(zone) > 64 or not is_known(zone)):
        raise ValidationError(
            {
                "time_zone": f"“{zone[:64]}” is not a known time zone: pick one from the list, "
                "e.g. America/New_York or Europe/London."
            }
        )
    return zone


@audit.write_service
def workspace_set_time_zone(*, workspace: Workspace, user: User, time_zone) -> Workspace:
    """The workspace's time zone (new business-hours steps start in it; the picker offers it
    first). Owners only, like the other workspace settings. The same value records nothing."""
    require_role(user, workspace, OWN, "manage the workspace's time zone")
    zone = time_zone_validate(time_zone)
    current = Workspace.objects.select_for_update().get(pk=workspace.pk)
    if current.time_zone != zone:
        before, current.time_zone = current.time_zone, zone
        current.save(update_fields=["time_zone"])
        audit.record(
            user=user,
            workspace=current,
            action="workspace.time_zone_changed",
            obj=current,
            label=current.name,
            details={"before": before or None, "after": zone or None},
        )
    workspace.time_zone = zone  # the caller's copy reads the stored value
    return current


# Accounts ----------------------------------------------------------------------------------


@transaction.atomic
def user_update_profile(*, full_name: str, user: User) -> User:
    """A user changes their own display name."""
    user.full_name = _full_name(full_name)
    user.save(update_fields=["full_name"])
    return user


def user_remember_workspace(*, workspace: Workspace, user: User) -> None:
    """The workspace the user's next login opens; only one they are a member of."""
    require_role(user, workspace, READ, "open this workspace")
    if user.last_workspace_id != workspace.pk:
        user.last_workspace = workspace
        user.save(update_fields=["last_workspace"])


@transaction.atomic
def signin_source_unlock(*, lockout: SourceLockout, user: User) -> SourceLockout:
    """Support staff lift a source's sign-in lockout (the admin only). The source starts
    afresh: its counted failures are forgotten, those per account included."""
    if not is_support(user):
        raise RoleRequired("Only support staff can lift a sign-in lockout.", user=user)
    lockout = SourceLockout.objects.select_for_update().get(pk=lockout.pk)
    if lockout.lifted_at is not None:
        return lockout
    lockout.lifted_at, lockout.lifted_by = timezone.now(), user
    lockout.save(update_fields=["lifted_at", "lifted_by"])
    # A second row for the same source (two failures racing to lock it) goes with it.
    SourceLockout.objects.active().filter(source=lockout.source).update(
        lifted_at=lockout.lifted_at, lifted_by=user
    )
    forgotten = axes_reset(ip=lockout.source)
    audit.record(
        user=user,
        workspace=None,
        action="signin.source_unlocked",
        obj=lockout,
        label=describe(lockout.source),
        details={
            "failures": lockout.failures,
            "accounts": lockout.accounts,
            "expires_at": lockout.expires_at.isoformat(),
            "attempts_forgotten": forgotten,
        },
    )
    return lockout
