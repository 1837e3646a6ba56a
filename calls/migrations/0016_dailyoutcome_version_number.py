"""The call flow version as a rollup dimension (issue 23: outcomes per call flow version), and
the rows counted again with it (calls/rollups.py, as `manage.py rebuild_rollups`)."""

import zoneinfo

from django.db import migrations, models
from django.db.models import Sum
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


def merge_versions(apps, schema_editor):
    """Back to one row per key without the version (before the column goes)."""
    DailyOutcome = apps.get_model("calls", "DailyOutcome")
    dims = ("workspace_id", "phone_number_id", "step_key", "job_id", "job_history_id", "day")
    merged = list(
        DailyOutcome.objects.values(*dims, "outcome", "shard")
        .annotate(n=Sum("count"), failed=Sum("failed_actions"))
        .order_by()
    )
    DailyOutcome.objects.all().delete()
    rows = [
        DailyOutcome(count=row.pop("n"), failed_actions=row.pop("failed"), **row) for row in merged
    ]
    DailyOutcome.objects.bulk_create(rows, batch_size=5_000)
    if schema_editor.connection.vendor == "postgresql":  # the column may go in this transaction
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Migration(migrations.Migration):
    dependencies = [
        ("calls", "0015_dailyoutcome_failed_actions"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="dailyoutcome",
            name="dailyoutcome_unique",
        ),
        migrations.AddField(
            model_name="dailyoutcome",
            name="version_number",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddConstraint(
            model_name="dailyoutcome",
            constraint=models.UniqueConstraint(
                fields=(
                    "workspace",
                    "phone_number_id",
                    "step_key",
                    "job_id",
                    "job_history_id",
                    "version_number",
                    "day",
                    "outcome",
                    "shard",
                ),
                name="dailyoutcome_unique",
            ),
        ),
        migrations.RunPython(fill, merge_versions),
    ]
