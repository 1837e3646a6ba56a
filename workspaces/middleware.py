from .models import Membership

SESSION_KEY = "workspace_id"


def _current_membership(request):
    """The user's membership in the workspace chosen in this session, else their first one."""
    user = request.user
    if not user.is_authenticated:
        return None
    memberships = Membership.objects.filter(user=user).select_related("workspace")
    chosen = request.session.get(SESSION_KEY)
    membership = None
    if chosen:
        membership = memberships.filter(workspace_id=chosen).first()
    if membership is None:
        membership = memberships.order_by("workspace__name", "pk").first()
    return membership


class CurrentWorkspaceMiddleware:
    """Sets request.membership and request.workspace (None when the user has no workspace).

    One query for a logged-in user (membership joined with its workspace), none otherwise.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = _current_membership(request)
        request.workspace = request.membership.workspace if request.membership else None
        return self.get_response(request)
