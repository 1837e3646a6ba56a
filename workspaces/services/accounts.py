"""A user's own account (display name, the workspace the next login opens) and support
staff lifting a sign-in lockout."""

from axes.utils import reset as axes_reset
from django.db import transaction
from django.utils import timezone

from core.sources import describe

from .. import audit
from ..models import SourceLockout, User, Workspace
from ..permissions import READ, RoleRequired, is_support, require_role
from .invitations import _full_name


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
