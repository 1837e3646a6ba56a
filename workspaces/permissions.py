"""The one place that decides who may do what in a workspace. Every page view uses it."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from .models import EDITOR_ROLES, Role

READ, EDIT, OWN = "read", "edit", "own"
_ALLOWED = {
    READ: frozenset(Role.values),
    EDIT: EDITOR_ROLES,
    OWN: frozenset({Role.OWNER}),
}
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def check_role(membership, level: str) -> None:
    """Raise PermissionDenied unless the membership's role reaches `level`."""
    if membership is None or membership.role not in _ALLOWED[level]:
        raise PermissionDenied("Your role in this workspace does not allow this.")


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
            check_role(request.membership, needed)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
