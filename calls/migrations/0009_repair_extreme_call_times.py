"""Calls reported before the report API refused extreme times (calls.services.call_times_check)
may hold a time before 2000 or far in the future. On PostgreSQL one before year 1 or after year
9999 in UTC (a report of 0001-01-01T00:00+05:00) cannot even be read back (psycopg: "timestamp
too small"), so every page listing it fails. Such a call's times become the moment it was
reported (created_at), the best known approximation; nothing else changes. Done in SQL: the
rows are never loaded."""

from datetime import UTC, datetime, timedelta

from django.db import migrations
from django.db.models import F, Q

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
AHEAD = timedelta(days=1)


def repair(apps, schema_editor):
    Call = apps.get_model("calls", "Call")
    latest = F("created_at") + AHEAD
    out_of_range = (
        Q(started_at__lt=EARLIEST)
        | Q(started_at__gt=latest)
        | Q(ended_at__lt=EARLIEST)
        | Q(ended_at__gt=latest)
    )
    Call.objects.filter(out_of_range).update(started_at=F("created_at"), ended_at=F("created_at"))


class Migration(migrations.Migration):
    dependencies = [("calls", "0008_delete_steptestcase")]

    operations = [migrations.RunPython(repair, migrations.RunPython.noop, elidable=True)]
