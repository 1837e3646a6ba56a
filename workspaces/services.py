import hashlib
import secrets
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from . import audit
from .models import ApiToken, Membership, Role, User, Workspace
from .permissions import OWN, require_role
from .phones import DEFAULT_REGION, normalize_region


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
def membership_invite(*, workspace: Workspace, email: str, role: str, user: User) -> Membership:
    """Add an existing user to the workspace."""
    require_role(user, workspace, OWN, "manage members")
    email = (email or "").strip()
    if role not in Role.values:
        raise ValidationError({"role": "Choose owner, admin or member."})
    invitee = User.objects.filter(email__iexact=email, is_active=True).first()
    if invitee is None:
        raise ValidationError(
            {"email": f"No user with the email “{email}”. Ask them to sign up first."}
        )
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
