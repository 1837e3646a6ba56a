"""Members of a workspace: support staff add one directly; owners change roles and remove
members, never the last owner."""

from django.core.exceptions import ValidationError

from .. import audit
from ..models import Membership, Role, User, Workspace
from ..permissions import OWN, RoleRequired, is_support, require_role
from ..signals import member_removing


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
