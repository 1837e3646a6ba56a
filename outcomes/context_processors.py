"""The open alerts of the current workspace for the nav's "Alerts (N)" and the home page's
banner. The count is Workspace.open_alerts, on the row the current-workspace middleware loads
anyway (no query on any page); the banner's alerts are read (one query) only on a page that
shows them, and only when some are open."""

from django.utils.functional import cached_property

from .models import Alert

BANNER_MAX = 3  # the home page names this many; the Alerts page has them all


class OpenAlerts:
    def __init__(self, workspace):
        self.workspace = workspace

    @property
    def count(self) -> int:
        return self.workspace.open_alerts

    @cached_property
    def latest(self) -> list[Alert]:
        if not self.count:
            return []
        return list(
            Alert.objects.open()
            .filter(workspace=self.workspace)
            .order_by("-raised_at", "-id")
            .only("id", "message", "raised_at")[:BANNER_MAX]
        )


def alerts(request):
    workspace = getattr(request, "workspace", None)
    user = getattr(request, "user", None)
    if workspace is None or user is None or not user.is_authenticated:
        return {}
    return {"open_alerts": OpenAlerts(workspace)}
