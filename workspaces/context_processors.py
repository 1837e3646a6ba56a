def workspace(request):
    """The header's workspace switcher needs the current membership and the other workspaces."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not hasattr(request, "membership"):
        return {}
    return {
        "current_membership": request.membership,
        "current_workspace": request.workspace,
        "user_memberships": user.memberships.select_related("workspace").order_by(
            "workspace__name"
        ),
    }
