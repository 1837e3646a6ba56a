"""The database alone enforces the limits, even when forms and services are bypassed."""

import pytest
from django.db import DataError, IntegrityError, connection, transaction

from jobs.models import Job
from tests.factories import JobFactory

pytestmark = pytest.mark.django_db

# PostgreSQL refuses an over-long varchar with DataError, the CHECK constraints with IntegrityError.
REFUSED = (DataError, IntegrityError)


@pytest.mark.parametrize(
    ("field", "limit"),
    [("name", 100), ("description", 500), ("trigger", 500), ("instructions", 10_000)],
)
def test_database_refuses_over_limit(workspace, field, limit):
    JobFactory(workspace=workspace, **{field: "é" * limit})  # characters, not bytes
    with pytest.raises(REFUSED), transaction.atomic():
        JobFactory(workspace=workspace, **{field: "x" * (limit + 1)})


def test_raw_sql_insert_of_101_character_name_fails(workspace):
    table = Job._meta.db_table
    sql = (
        f"INSERT INTO {table} (workspace_id, name, description, trigger, instructions, template_name,"
        " created_at, updated_at, revision) VALUES (%s, %s, '', '', 'x', '', %s, %s, 1)"
    )
    now = "2026-01-01 00:00:00+00:00"
    with connection.cursor() as cursor:
        with pytest.raises(REFUSED), transaction.atomic():
            cursor.execute(sql, [workspace.pk, "n" * 101, now, now])
        cursor.execute(sql, [workspace.pk, "n" * 100, now, now])
    assert Job.objects.get().name == "n" * 100


def test_database_refuses_case_insensitive_duplicate(workspace):
    JobFactory(workspace=workspace, name="Escalate")
    with pytest.raises(IntegrityError), transaction.atomic():
        JobFactory(workspace=workspace, name="ESCALATE")


def test_deleted_job_frees_its_name(workspace):
    JobFactory(workspace=workspace, name="Escalate", deleted_at="2026-01-01T00:00:00Z")
    JobFactory(workspace=workspace, name="escalate")
    assert Job.objects.count() == 2


@pytest.mark.parametrize("field", ["name", "instructions"])
def test_database_refuses_empty_required_text(workspace, field):
    with pytest.raises(IntegrityError), transaction.atomic():
        JobFactory(workspace=workspace, **{field: ""})
