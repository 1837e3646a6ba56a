"""A trigram index for the Calls page's search in the summary (PostgreSQL only).

Django's `summary__icontains` is `UPPER(summary::text) LIKE UPPER(%s)` on PostgreSQL, so the
index is on that expression with gin_trgm_ops. SQLite has no trigram index: nothing happens
there (the model declares no such index, so makemigrations stays quiet on both)."""

from django.db import migrations

INDEX = "call_summary_trgm"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON calls_call "
        "USING gin ((UPPER(summary::text)) gin_trgm_ops)"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")  # the extension may serve others


class Migration(migrations.Migration):
    dependencies = [("calls", "0002_remove_call_call_job_recent_call_idempotency_key_and_more")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
