"""Call times at the edges (issue 20, point 3): the report API refuses times before 2000, in the
future, reversed or a call longer than 24 h (400 naming the field); a call stored before the rule
with a time in year 1 or year 9999 never makes a page, the API read, the date filter or the CSV
export answer 500, on SQLite and on PostgreSQL."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from calls.models import Call
from tests.calls import test_calls_api
from tests.calls.test_calls_api import body, read, report
from tests.conftest import postgres_only
from tests.factories import CallFactory

pytestmark = pytest.mark.django_db
line = test_calls_api.line  # the published number and its token

YEAR_ONE = datetime(1, 1, 1, tzinfo=UTC)
YEAR_9999 = datetime(9999, 12, 31, 23, 59, tzinfo=UTC)


@pytest.mark.parametrize(
    ("started", "ended", "field", "message"),
    [
        ("0001-01-01T00:00:00Z", "0001-01-01T00:01:00Z", "started_at", "before 2000-01-01"),
        ("0001-01-01T00:00:00+05:00", None, "started_at", "before 2000-01-01"),
        ("1999-12-31T23:59:59Z", None, "started_at", "before 2000-01-01"),
        (None, "9999-12-31T23:59:59-05:00", "ended_at", "more than a day in the future"),
        (None, "9999-12-31T23:59:59Z", "ended_at", "more than a day in the future"),
        ("-1", None, "started_at", "ISO 8601"),
        ("1700000000", None, "started_at", "ISO 8601"),
    ],
)
def test_a_report_with_an_extreme_time_is_refused_naming_the_field(
    client, line, started, ended, field, message
):
    now = timezone.now()
    data = body(
        line,
        started_at=started or (now - timedelta(minutes=1)).isoformat(),
        ended_at=ended or now.isoformat(),
    )
    response = report(client, line.token.raw, data)
    assert response.status_code == 400, response.content
    answer = response.json()
    assert answer["error"] == "Invalid request."
    assert message in str(answer["fields"][field]), answer
    assert not Call.objects.exists()


def test_a_call_longer_than_a_day_is_refused(client, line):
    end = timezone.now()
    data = body(
        line,
        started_at=(end - timedelta(hours=24, seconds=1)).isoformat(),
        ended_at=end.isoformat(),
    )
    response = report(client, line.token.raw, data)
    assert response.status_code == 400
    assert response.json()["fields"] == {"ended_at": "The call lasts more than 24 hours."}
    assert not Call.objects.exists()
    # Exactly a day is a call.
    data = body(line, started_at=(end - timedelta(hours=24)).isoformat(), ended_at=end.isoformat())
    assert report(client, line.token.raw, data).status_code == 201


def test_the_earliest_time_is_accepted(client, line):
    data = body(line, started_at="2000-01-01T00:00:00Z", ended_at="2000-01-01T00:05:00Z")
    response = report(client, line.token.raw, data)
    assert response.status_code == 201, response.json()


@pytest.fixture(params=["America/Los_Angeles", "Asia/Tokyo"])
def stored_extremes(request, workspace, phone):
    """Calls stored before the rule, at both ends of what a datetime holds, seen from a zone
    behind UTC and one ahead of it."""
    workspace.time_zone = request.param
    workspace.save()
    early = CallFactory(phone_number=phone, started_at=YEAR_ONE, ended_at=YEAR_ONE)
    late = CallFactory(phone_number=phone, started_at=YEAR_9999, ended_at=YEAR_9999)
    return early, late


def _pages_answer(client, calls):
    for call in calls:
        assert client.get(reverse("calls:detail", args=[call.pk])).status_code == 200
    response = client.get(reverse("calls:list"))
    assert response.status_code == 200
    export = client.get(reverse("calls:export"))
    assert export.status_code == 200
    text = b"".join(export.streaming_content).decode()
    assert "0001-01-01" in text and "9999-12-31" in text
    for day in ("0001-01-01", "9999-12-31", "1000-06-15"):
        for name in ("date_from", "date_to"):
            response = client.get(reverse("calls:list"), {name: day})
            assert response.status_code == 200, (name, day)
            assert "between 2000-01-01 and 2999-12-31" in response.content.decode()
            response = client.get(reverse("calls:export"), {name: day})
            assert response.status_code == 400, (name, day)
    response = client.get(reverse("calls:list"), {"date_from": "2000-01-01"})
    assert response.status_code == 200
    phone = calls[0].phone_number
    assert client.get(reverse("callflows:editor", args=[phone.pk])).status_code == 200


def test_stored_extreme_times_never_500(owner_client, stored_extremes):
    _pages_answer(owner_client, stored_extremes)


def test_stored_extreme_times_read_through_the_api(client, line):
    early = CallFactory(phone_number=line.phone, started_at=YEAR_ONE, ended_at=YEAR_ONE)
    late = CallFactory(phone_number=line.phone, started_at=YEAR_9999, ended_at=YEAR_9999)
    for call, year in ((early, "0001"), (late, "9999")):
        response = read(client, line.token.raw, call.pk)
        assert response.status_code == 200
        assert response.json()["started_at"].startswith(year)


@postgres_only()
@pytest.mark.postgres
def test_stored_extreme_times_never_500_on_postgresql(owner_client, stored_extremes):
    _pages_answer(owner_client, stored_extremes)


@pytest.mark.django_db(transaction=True)
def test_the_repair_migration_gives_far_calls_their_report_time(phone):
    """Calls stored before the rule get created_at as their times; others are untouched.
    On PostgreSQL the year-1 time with an offset ahead of UTC is one it cannot read back."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    far_early = CallFactory(phone_number=phone, started_at=YEAR_ONE, ended_at=YEAR_ONE)
    far_late = CallFactory(phone_number=phone, started_at=YEAR_9999, ended_at=YEAR_9999)
    fine = CallFactory(phone_number=phone)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE calls_call SET started_at = '0001-01-01 00:00:00+05' WHERE id = %s",
                [far_early.pk],
            )
    executor = MigrationExecutor(connection)
    try:
        executor.migrate([("calls", "0008_delete_steptestcase")])
        executor.loader.build_graph()
        executor.migrate([("calls", "0009_repair_extreme_call_times")])
        for call in (far_early, far_late):
            stored = Call.objects.get(pk=call.pk)
            assert stored.started_at == stored.ended_at == stored.created_at
        stored = Call.objects.get(pk=fine.pk)
        assert (stored.started_at, stored.ended_at) == (fine.started_at, fine.ended_at)
    finally:  # the later migrations' tables, for the tests that run after this one
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
