"""The open alerts of the current workspace for the nav's "Alerts (N)" and the home page's
banner: one query, made only when a page shows them (lazy)."""

from django.db.models import Count, Window
from django.utils.functional import cached_property

from .models import Alert

BANNER_MAX = 3  # the home page names this many; the Alerts page has them all


class OpenAlerts:
    def __init__(self, workspace):
        self.workspace = workspace

    @cached_property
    def _rows(self) -> list:
        """The newest open alerts with the total count beside each row (a window function):
        the count and the banner's alerts in one query, on alert_recent."""
        return list(
            Alert.objects.open()
            .filter(workspace=self.workspace)
            .annotate(total=Window(Count("id")))
            .order_by("-raised_at", "-id")
            .only("id", "message", "raised_at")[:BANNER_MAX]
        )

    @property
    def count(self) -> int:
        rows = self._rows
        return rows[0].total if rows else 0

    @property
    def latest(self) -> list[Alert]:
        return self._rows


def alerts(request):
    workspace = getattr(request, "workspace", None)
    user = getattr(request, "user", None)
    if workspace is None or user is None or not user.is_authenticated:
        return {}
    return {"open_alerts": OpenAlerts(workspace)}
