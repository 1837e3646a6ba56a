"""The one place that decides who may do what in a workspace.

Every write service calls require_role before it writes; page views use workspace_view, which
asks the same rule table. Support staff act only through staff_support (the admin site).
"""

from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from .models import EDITOR_ROLES, Membership, Role

READ, EDIT, OWN = "read", "edit", "own"
# member: read only; admin: jobs, knowledge, call flows, publishing; owner: also members, tokens.
_ALLOWED = {
    READ: frozenset(Role.values),
    EDIT: EDITOR_ROLES,
    OWN: frozenset({Role.OWNER}),
}
_WHO = {READ: "members", EDIT: "owners and admins", OWN: "owners"}
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# The pk of the staff user the admin site is acting for, only inside `with staff_support(...)`.
_support_staff_pk: ContextVar[int | None] = ContextVar("support_staff_pk", default=None)


class RoleRequired(PermissionDenied):
    """The acting user's role in the workspace does not allow the action; nothing was changed.

    Carries who tried what where, for the `write.refused` audit event (workspaces/audit.py)."""

    def __init__(self, message: str, *, user=None, workspace=None, action: str = ""):
        super().__init__(message)
        self.user, self.workspace, self.action = user, workspace, action
        self.recorded = False  # set once the refusal is in the audit log


def _refusal(workspace, level: str, action: str, user=None) -> RoleRequired:
    return RoleRequired(
        f"Only {_WHO[level]} of {workspace.name} can {action}.",
        user=user,
        workspace=workspace,
        action=action,
    )


def role_allows(role: str | None, level: str) -> bool:
    return role in _ALLOWED[level]


def is_support(user) -> bool:
    pk = _support_staff_pk.get()
    return pk is not None and user.is_staff and user.pk == pk


def require_role(user, workspace, level: str, action: str = "do this") -> None:
    """Raise RoleRequired unless `user` may act at `level` in `workspace`.

    Refused: no user, anonymous, inactive, not a member, or a role below `level`. Accepted
    besides: an active staff user inside `staff_support(user)`.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        raise _refusal(workspace, level, action, user)
    if is_support(user):
        return
    role = (
        Membership.objects.filter(user=user, workspace=workspace)
        .values_list("role", flat=True)
        .first()
    )
    if not role_allows(role, level):
        raise _refusal(workspace, level, action, user)


@contextmanager
def staff_support(user):
    """Let an active staff user pass require_role inside this block (the admin site only).

    Anyone else gains nothing: outside the block, or for a non-staff user, roles apply as usual.
    """
    token = _support_staff_pk.set(user.pk if user.is_active and user.is_staff else None)
    try:
        yield
    finally:
        _support_staff_pk.reset(token)


def workspace_view(level: str = READ, *, member_may_post: bool = False):
    """Decorate a view that works inside the current workspace.

    Anonymous users go to the login page; a user without a workspace sees an explanation.
    Members (read-only) may use safe methods only, unless the view says otherwise.
    """

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.membership is None:
                return render(request, "workspaces/no_workspace.html", status=403)
            needed = level
            if request.method not in _SAFE_METHODS and needed == READ and not member_may_post:
                needed = EDIT
            if not role_allows(request.membership.role, needed):
                refusal = _refusal(request.workspace, needed, "do this", request.user)
                if request.method not in _SAFE_METHODS:  # a refused write, not a page to read
                    from .audit import record_refusal  # audit imports this module

                    record_refusal(refusal, attempted=f"{request.method} {request.path}")
                raise refusal
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
