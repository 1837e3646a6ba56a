"""The jobs search on PostgreSQL: pg_trgm and a trigram GIN index on each searched text, on the
expression Django's icontains compares (UPPER(col::text) LIKE UPPER('%...%')), so a search
reads the index instead of every job. SQLite keeps a plain icontains: both operations do
nothing there (TrigramExtension skips other databases; the indexes are created in RunPython
on PostgreSQL only and are no part of the model state, so makemigrations stays quiet)."""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

COLUMNS = ("name", "description", "trigger", "instructions")


def _index(column: str) -> str:
    return f"job_{column}_trgm"


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {_index(column)} ON jobs_job "
            f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS {_index(column)}")


class Migration(migrations.Migration):
    dependencies = [("jobs", "0001_initial")]

    operations = [
        TrigramExtension(),
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
