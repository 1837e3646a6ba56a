"""The summary's search index moves off the calls table (issue 22): CallSearch holds a copy of
each summary, filled by a background task (calls/search.py), and carries the trigram index
(PostgreSQL) that was on calls_call, so a call report's INSERT no longer maintains it.

The copy of the calls already stored is made here, up to the first call created in the last
minute (a call still being reported may not be visible yet: the task takes those later)."""

from datetime import timedelta

import django.db.models.deletion
from django.db import migrations, models
from django.utils import timezone

OLD_INDEX = "call_summary_trgm"
INDEX = "callsearch_summary_trgm"


def forwards(apps, schema_editor):
    Call = apps.get_model("calls", "Call")
    settled = timezone.now() - timedelta(minutes=1)
    first_unsettled = (
        Call.objects.filter(created_at__gte=settled).order_by("pk").values_list("pk", flat=True)
    ).first()
    rows = Call.objects.order_by()
    if first_unsettled is not None:
        rows = rows.filter(pk__lt=first_unsettled)
    sql, params = rows.values_list("pk", "workspace_id", "summary").query.sql_with_params()
    schema_editor.execute(
        f"INSERT INTO calls_callsearch (call_id, workspace_id, summary) {sql}", params
    )
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON calls_callsearch "
            "USING gin ((UPPER(summary::text)) gin_trgm_ops)"
        )
        schema_editor.execute(f"DROP INDEX IF EXISTS {OLD_INDEX}")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {OLD_INDEX} ON calls_call "
            "USING gin ((UPPER(summary::text)) gin_trgm_ops)"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("calls", "0016_dailyoutcome_version_number"),
        ("workspaces", "0012_user_email_verified_at"),
    ]

    operations = [
        migrations.CreateModel(
            name="CallSearch",
            fields=[
                (
                    "call",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="search_row",
                        serialize=False,
                        to="calls.call",
                    ),
                ),
                ("summary", models.TextField(blank=True)),
                (
                    "workspace",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="workspaces.workspace",
                    ),
                ),
            ],
        ),
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
