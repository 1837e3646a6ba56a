"""Issue 22.2: the Calls page's search in summaries reads CallSearch (a copy made by a
background task, calls/search.py), not an index on the calls table that every report's INSERT
would maintain."""

import importlib
import io
from datetime import timedelta

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from calls import search, tasks
from calls.models import Call, CallSearch
from calls.selectors import log
from tests.conftest import postgres_only
from tests.factories import CallFactory, PhoneNumberFactory

pytestmark = pytest.mark.django_db


def found(workspace, words: str) -> list[int]:
    filters = log.CallFilters(search=words)
    calls = log.calls_filtered(workspace=workspace, filters=filters)
    return list(calls.values_list("pk", flat=True))


def test_a_call_is_found_once_its_summary_is_copied(workspace, phone):
    refund = CallFactory(phone_number=phone, summary="Wanted a REFUND for a broken blender.")
    CallFactory(phone_number=phone, summary="Asked for the opening hours.")
    assert found(workspace, "refund") == []  # the report wrote the calls table only
    assert search.index_summaries() == 2
    assert search.indexed_through() == Call.objects.order_by("-pk").first().pk
    assert found(workspace, "Refund") == [refund.pk]
    assert found(workspace, "no such words") == []


def test_the_calls_page_copies_first_when_no_worker_runs(owner_client, phone, settings):
    refund = CallFactory(phone_number=phone, summary="Wanted a refund.")
    response = owner_client.get(reverse("calls:list"), {"q": "refund"})
    assert [c.pk for c in response.context["page"].calls] == [refund.pk]
    settings.CELERY_TASK_ALWAYS_EAGER = False  # a worker's beat copies: the page only reads
    later = CallFactory(phone_number=phone, summary="Another refund.")
    response = owner_client.get(reverse("calls:list"), {"q": "refund"})
    assert [c.pk for c in response.context["page"].calls] == [refund.pk]
    search.index_summaries()
    response = owner_client.get(reverse("calls:list"), {"q": "refund"})
    assert [c.pk for c in response.context["page"].calls] == [later.pk, refund.pk]


def test_another_workspaces_calls_are_never_found(workspace, phone):
    CallFactory(phone_number=PhoneNumberFactory(), summary="Wanted a refund.")
    mine = CallFactory(phone_number=phone, summary="Wanted a refund.")
    search.index_summaries()
    assert found(workspace, "refund") == [mine.pk]


def test_the_copy_stops_at_the_first_call_that_has_not_settled(workspace, phone, settings):
    """On PostgreSQL ids are handed out before commit: a call created less than the settle
    time ago may still have a lower-id neighbour about to appear, so it and everything after
    it wait for the next run."""
    settings.CALL_SEARCH_SETTLE_SECONDS = 10
    first = CallFactory(phone_number=phone, summary="First refund.")
    fresh = CallFactory(phone_number=phone, summary="Fresh refund.")
    last = CallFactory(phone_number=phone, summary="Last refund.")
    now = timezone.now()
    Call.objects.filter(pk__in=[first.pk, last.pk]).update(created_at=now - timedelta(hours=1))
    assert search.index_summaries(now=now) == 1
    assert search.indexed_through() == first.pk and found(workspace, "refund") == [first.pk]
    assert search.index_summaries(now=now + timedelta(seconds=11)) == 2
    assert sorted(found(workspace, "refund")) == [first.pk, fresh.pk, last.pk]


def test_batches_and_a_second_run_copy_each_call_once(workspace, phone):
    calls = CallFactory.create_batch(5, phone_number=phone, summary="Refund please.")
    assert search.index_summaries(batch=2) == 5
    assert search.index_summaries(batch=2) == 0
    assert CallSearch.objects.count() == 5
    assert sorted(found(workspace, "refund")) == sorted(c.pk for c in calls)


def test_a_deleted_call_leaves_the_index_with_it(workspace, phone):
    gone, kept = CallFactory.create_batch(2, phone_number=phone, summary="Refund please.")
    search.index_summaries()
    Call.objects.filter(pk=gone.pk).delete()
    assert list(CallSearch.objects.values_list("call_id", flat=True)) == [kept.pk]
    assert found(workspace, "refund") == [kept.pk]


def test_the_worker_runs_it_on_a_schedule_and_a_command_by_hand(phone, settings):
    entry = settings.CELERY_BEAT_SCHEDULE["calls.index-summaries"]
    assert entry["task"] == "calls.tasks.index_call_summaries"
    assert entry["schedule"] == timedelta(seconds=settings.CALL_SEARCH_INDEX_SECONDS)
    CallFactory(phone_number=phone)
    assert tasks.index_call_summaries.delay().get() == 1
    CallFactory.create_batch(2, phone_number=phone)
    out = io.StringIO()
    call_command("index_call_summaries", stdout=out)
    assert out.getvalue().strip() == "Indexed 2 call summaries."


class _Editor:
    """What forwards() uses of a schema editor, running its copy only (SQLite's editor cannot
    open inside a test's transaction, nor PostgreSQL index DDL after its writes; the indexes
    are checked in the migrated test database below)."""

    connection = connection

    def execute(self, sql, params=()):
        if not sql.startswith("INSERT"):
            return
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def test_the_migration_copies_the_settled_calls(phone):
    """0017 copies what is stored up to the first call of the last minute (the task does the
    rest), so the search finds every older call from the day it is deployed."""
    old = CallFactory.create_batch(2, phone_number=phone)
    recent = CallFactory(phone_number=phone)
    Call.objects.filter(pk__in=[c.pk for c in old]).update(
        created_at=timezone.now() - timedelta(hours=1)
    )
    migration = importlib.import_module("calls.migrations.0017_callsearch")
    migration.forwards(apps, _Editor())
    assert sorted(CallSearch.objects.values_list("call_id", flat=True)) == [c.pk for c in old]
    assert search.indexed_through() < recent.pk


def _indexes(table: str) -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [table])
        return dict(cursor.fetchall())


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@postgres_only()
def test_no_trigram_index_on_the_calls_table_and_the_search_reads_the_copys(workspace, phone):
    assert not [d for d in _indexes("calls_call").values() if "gin" in d.lower()]
    assert "gin_trgm_ops" in _indexes("calls_callsearch")["callsearch_summary_trgm"]
    CallFactory.create_batch(3, phone_number=phone)
    search.index_summaries()
    matches = search.summary_matches("blender", workspace_id=workspace.pk).children[0][1]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a test's few rows would be read whole
    assert "Bitmap Index Scan on callsearch_summary_trgm" in _plan(matches)
    # the page's query reads the copy (a semi-join), never the calls' own summary
    calls = log.calls_filtered(workspace=workspace, filters=log.CallFilters(search="blender"))
    plan = _plan(calls.only("pk"))
    assert "calls_callsearch" in plan and "calls_call.summary" not in plan, plan
