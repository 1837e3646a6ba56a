# ruff: noqa: F811  (the `line` fixture is imported, then named by the tests)
"""POST /api/v1/calls near one INSERT (issue 22): its round trips, the duplicate check under a
generic plan, the day of its rollup row in the workspace's own zone, and retries."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from callflows import services as cf
from calls.models import Call, DailyOutcome
from calls.selectors import reports
from tests.calls.test_calls_api import body, line, report  # noqa: F401  (`line`: the fixture)
from tests.conftest import postgres_only
from tests.factories import CallFactory
from workspaces.services import workspace_set_time_zone

pytestmark = pytest.mark.django_db


def test_a_warm_new_report_is_two_round_trips_on_postgresql(
    client, line, django_assert_num_queries
):
    assert report(client, line.token.raw, body(line, external_id="warm-up")).status_code == 201
    # the number with its version, step and job; the INSERT with its rollup row (SQLite: the
    # INSERT and the upsert are two statements); the token is leased from the first report.
    with django_assert_num_queries(2 if connection.vendor == "postgresql" else 3):
        assert report(client, line.token.raw, body(line, external_id="new")).status_code == 201
    counted = DailyOutcome.objects.filter(workspace=line.phone.workspace, outcome="sms_sent")
    assert sum(counted.values_list("count", flat=True)) == 2


@postgres_only()
@pytest.mark.postgres
def test_the_duplicate_check_uses_its_indexes_under_a_generic_plan(line):
    """A pooler or `plan_cache_mode` may run the lookup with a generic plan, which cannot
    look at the values: each probe must still be an index probe, never a scan of the calls."""
    CallFactory.create_batch(3, phone_number=line.phone)
    with connection.cursor() as cursor:
        cursor.execute("SET plan_cache_mode = force_generic_plan")
        cursor.execute("SET enable_seqscan = off")  # a scan would only be chosen if forced
        try:
            statement = _existing_statement()
            cursor.execute(f"PREPARE existing_probe AS {statement}")
            cursor.execute("EXPLAIN EXECUTE existing_probe (1, 'k', 1, 'e')")
            plan = "\n".join(row[0] for row in cursor.fetchall())
        finally:
            cursor.execute("DEALLOCATE ALL")
            cursor.execute("RESET plan_cache_mode")
            cursor.execute("RESET enable_seqscan")
    assert "Seq Scan" not in plan, plan
    assert plan.count("Index Scan using call_") == 2, plan  # one probe per key


def _existing_statement() -> str:
    """report_existing's SQL with $1…$4 for its parameters, as a prepared statement has them."""
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        reports.report_existing(workspace_id=1, key="k", external_id="e")
    sql = ctx.captured_queries[-1]["sql"].split(" -- ")[0]
    for n in range(1, 5):
        sql = sql.replace("%s", f"${n}", 1)
    return sql


def test_the_rollup_day_is_the_workspaces_own_zone(client, line, owner, workspace):
    """The report's workspace comes from the leased token lookup: its own zone, not only its
    country's, decides the day (a US workspace set to Tokyo counts a 20:00 UTC call tomorrow)."""
    workspace_set_time_zone(workspace=workspace, user=owner, time_zone="Asia/Tokyo")
    started = datetime.now(UTC).replace(hour=20, minute=0, second=0, microsecond=0)
    if started > datetime.now(UTC):
        started -= timedelta(days=1)
    data = body(line, external_id="tokyo", started_at=started.isoformat(),
                ended_at=(started + timedelta(minutes=2)).isoformat())  # fmt: skip
    assert report(client, line.token.raw, data).status_code == 201
    row = DailyOutcome.objects.get(workspace=workspace, outcome="sms_sent")
    assert row.day == (started + timedelta(hours=9)).date() != started.date()


def test_a_retry_is_answered_after_its_number_was_purged(client, line, owner):
    """The report itself would now be refused (unknown number): a retry is still a retry."""
    data = body(line, external_id="before-delete")
    first = report(client, line.token.raw, data)
    assert first.status_code == 201
    cf.phone_number_delete(phone_number=line.phone, user=owner)
    cf.phone_number_purge_deleted(now=datetime.now(UTC) + timedelta(days=3650))
    assert report(client, line.token.raw, body(line, external_id="new")).status_code == 404
    again = report(client, line.token.raw, data)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert Call.objects.filter(external_id="before-delete").count() == 1
