"""Fill the daily rollups from the calls already stored (calls/rollups.py: the same code as
`manage.py rebuild_rollups`), so a deploy's charts are right from the first request."""

import zoneinfo

from django.db import migrations
from django.utils import timezone

from calls.rollups import rebuild_rows
from core.timezones import main_zone


def fill(apps, schema_editor):
    Workspace = apps.get_model("workspaces", "Workspace")
    Call = apps.get_model("calls", "Call")
    DailyOutcome = apps.get_model("calls", "DailyOutcome")
    for ws in Workspace.objects.order_by("pk").only("pk", "time_zone", "country"):
        try:  # calls/selectors/log.py: workspace_tz, on the historical model
            tz = zoneinfo.ZoneInfo(ws.time_zone or main_zone(ws.country))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            tz = timezone.get_default_timezone()
        rebuild_rows(Call, DailyOutcome, ws.pk, tz, since=None, until=None)


class Migration(migrations.Migration):
    dependencies = [("calls", "0011_dailyoutcome")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
