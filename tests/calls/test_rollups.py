"""Daily rollups (issue 22, point 3): DailyOutcome counts real calls per number, step, job, job
version, day (in the workspace's zone) and outcome, kept on report and on prune, rebuilt by
`rebuild_rollups`; the job and number pages' charts read it, so their queries do not grow."""

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Sum
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from calls import rollups, services
from calls.models import Call, DailyOutcome, Outcome, Source
from jobs import services as js
from tests.calls import test_calls_api as api
from tests.calls.test_calls_api import TEXTS, body, report
from tests.conftest import postgres_only
from tests.factories import CallFactory, JobFactory, PhoneNumberFactory, WorkspaceFactory
from workspaces.models import Workspace
from workspaces.services import workspace_set_time_zone

pytestmark = pytest.mark.django_db

line = api.line  # a published number with a job, and a runtime token (a fixture)

NOW = timezone.now()


def _rows(workspace=None):
    """Each key with its count: the sum of its shards' rows (keys summing to 0 left out)."""
    key = ("phone_number_id", "step_key", "job_id", "job_history_id", "version_number", "day")
    key += ("outcome",)
    rows = DailyOutcome.objects.order_by("workspace", *key)
    if workspace is not None:
        rows = rows.filter(workspace=workspace)
    summed = rows.values_list(*key).annotate(n=Sum("count")).exclude(n=0)
    return list(summed.values_list(*key, "n"))


def _today(workspace):
    return NOW.astimezone(rollups.workspace_tz(workspace)).date()


# Kept on report -------------------------------------------------------------------------------


def test_reports_count_per_day_and_outcome_and_a_retry_counts_once(client, line, workspace):
    first = body(line, external_id="CA-1")
    assert report(client, line.token.raw, first).status_code == 201
    assert report(client, line.token.raw, first).status_code == 200  # a retry: not a new call
    assert report(client, line.token.raw, body(line, external_id="CA-2")).status_code == 201
    other = body(line, external_id="CA-3", outcome="failed", job=None, step=None)
    assert report(client, line.token.raw, other).status_code == 201
    history_id = Call.objects.get(external_id="CA-1").job_history_id
    assert history_id
    day = _today(workspace)
    live = Call.objects.get(external_id="CA-1").version_number  # the version that answered
    assert live
    assert _rows(workspace) == [
        (line.phone.pk, "", 0, 0, live, day, "failed", 1),
        (line.phone.pk, line.sona.key, line.job.pk, history_id, live, day, "sms_sent", 2),
    ]


def test_mock_calls_never_count(workspace, phone):
    CallFactory(phone_number=phone, source=Source.MOCK)
    assert _rows() == []
    CallFactory(phone_number=phone, source=Source.LIVE, outcome=Outcome.VOICEMAIL)
    assert [r[-2:] for r in _rows()] == [("voicemail", 1)]


@pytest.mark.parametrize(
    ("zone", "day"), [("Asia/Tokyo", date(2026, 3, 11)), ("America/Los_Angeles", date(2026, 3, 10))]
)
def test_the_workspace_zone_decides_the_day(workspace, phone, owner, zone, day):
    workspace_set_time_zone(workspace=workspace, user=owner, time_zone=zone)
    CallFactory(phone_number=phone, started_at=datetime(2026, 3, 10, 15, 30, tzinfo=UTC))
    assert [r[5] for r in _rows()] == [day]


def test_a_new_time_zone_moves_the_days(
    workspace, phone, owner, django_capture_on_commit_callbacks
):
    workspace_set_time_zone(workspace=workspace, user=owner, time_zone="America/Los_Angeles")
    CallFactory(phone_number=phone, started_at=datetime(2026, 3, 10, 15, 30, tzinfo=UTC))
    with django_capture_on_commit_callbacks(execute=True):
        workspace_set_time_zone(workspace=workspace, user=owner, time_zone="Asia/Tokyo")
    assert [(r[5], r[7]) for r in _rows()] == [(date(2026, 3, 11), 1)]


# Kept on prune --------------------------------------------------------------------------------


def test_prune_takes_the_deleted_calls_off(workspace, phone):
    Workspace.objects.filter(pk=workspace.pk).update(call_retention_days=30)
    job = JobFactory(workspace=workspace)
    for version, days_ago in enumerate((40, 40, 31, 29, 1)):
        CallFactory(
            phone_number=phone,
            job=job,
            version_number=version % 2 + 1,
            started_at=NOW - timedelta(days=days_ago),
        )
    CallFactory(phone_number=phone, source=Source.MOCK, started_at=NOW - timedelta(days=40))
    assert sum(r[-1] for r in _rows()) == 5
    [result] = services.calls_prune(workspace=workspace, now=NOW, batch_size=2)
    assert result.calls_deleted == 4  # 3 real, 1 mock
    assert sorted(r[-1] for r in _rows()) == [1, 1]
    incremental = _rows()
    rollups.rebuild(Workspace.objects.get(pk=workspace.pk))
    assert _rows() == incremental


# Rebuilt by the command -----------------------------------------------------------------------


def _world(workspace, phone):
    job, other_job = JobFactory(workspace=workspace), JobFactory(workspace=workspace)
    second = PhoneNumberFactory(workspace=workspace)
    outcomes = list(Outcome.values)
    for i in range(40):
        CallFactory(
            phone_number=phone if i % 3 else second,
            job=(job, other_job, None)[i % 3],
            job_history_id=(None, 7, 8)[i % 3] if i % 3 != 2 else None,
            version_number=(None, 1, 2, 3)[i % 4],  # the call flow version (None: the draft)
            step_key=("a1", "b2")[i % 2],
            outcome=outcomes[i % len(outcomes)],
            started_at=NOW - timedelta(days=i % 9, hours=i % 5),
            source=Source.MOCK if i % 10 == 0 else Source.LIVE,
        )


def test_rebuild_equals_the_incremental_counts_and_is_idempotent(workspace, phone, capsys):
    _world(workspace, phone)
    stranger = WorkspaceFactory()
    CallFactory(phone_number=PhoneNumberFactory(workspace=stranger))
    incremental, theirs = _rows(workspace), _rows(stranger)
    assert sum(r[-1] for r in incremental) == 36  # 40 calls, 4 mock
    DailyOutcome.objects.filter(workspace=workspace).delete()
    DailyOutcome.objects.create(
        workspace=workspace, day=date(2020, 1, 1), outcome="failed", count=5
    )  # a stale row
    call_command("rebuild_rollups", "--workspace", workspace.slug)
    assert _rows(workspace) == incremental
    assert f"{workspace.slug}: {len(incremental)} rollup row(s)." in capsys.readouterr().out
    call_command("rebuild_rollups")  # every workspace, again: the same rows
    assert (_rows(workspace), _rows(stranger)) == (incremental, theirs)


def test_rebuild_of_a_range_of_days_leaves_the_others(workspace, phone):
    _world(workspace, phone)
    incremental = _rows(workspace)
    today = _today(workspace)
    DailyOutcome.objects.filter(workspace=workspace).update(count=99)
    since, until = today - timedelta(days=3), today - timedelta(days=1)
    call_command("rebuild_rollups", "--since", f"{since}", "--until", f"{until}")
    for expected, row in zip(incremental, _rows(workspace), strict=True):
        assert row == (expected if since <= row[5] <= until else (*expected[:-1], 99))


def test_the_command_refuses_bad_arguments(workspace):
    with pytest.raises(CommandError, match="No workspace with the slug 'nope'"):
        call_command("rebuild_rollups", "--workspace", "nope")
    with pytest.raises(CommandError, match="--since: a date as YYYY-MM-DD"):
        call_command("rebuild_rollups", "--since", "yesterday")
    with pytest.raises(CommandError, match="--since is after --until"):
        call_command("rebuild_rollups", "--since", "2026-02-02", "--until", "2026-02-01")


# The charts read the rollups ------------------------------------------------------------------


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def _add_calls(phone, job, n):
    outcomes = list(Outcome.values)
    for i in range(n):
        CallFactory(
            phone_number=phone,
            job=job,
            outcome=outcomes[i % len(outcomes)],
            started_at=NOW - timedelta(days=i % 35, minutes=i),
        )


def test_the_chart_pages_queries_do_not_depend_on_the_calls(owner_client, owner, workspace, phone):
    job = js.job_create(workspace=workspace, user=owner, data=TEXTS)
    _add_calls(phone, job, 10)
    small = [
        _queries(owner_client, url) for url in (job.get_absolute_url(), phone.get_absolute_url())
    ]
    _add_calls(phone, job, 190)
    large = [
        _queries(owner_client, url) for url in (job.get_absolute_url(), phone.get_absolute_url())
    ]
    assert small == large
    response = owner_client.get(job.get_absolute_url())
    assert response.context["activity"].total == sum(1 for i in range(10) if i % 35 < 30) + sum(
        1 for i in range(190) if i % 35 < 30
    )


def test_the_charts_show_what_the_calls_say(owner_client, owner, workspace, phone):
    """The since-the-edit figure: the rollup's later days plus the edit day's calls after it."""
    job = js.job_create(workspace=workspace, user=owner, data=TEXTS)
    for days_ago in (0, 1, 2, 5):
        CallFactory(phone_number=phone, job=job, started_at=NOW - timedelta(days=days_ago))
    CallFactory(phone_number=phone, job=job, source=Source.MOCK)
    CallFactory(phone_number=phone, job=job, started_at=NOW - timedelta(minutes=1))
    js.job_update(job=job, user=owner, data={"description": "Edited."})  # the last edit: now
    CallFactory(phone_number=phone, job=job, outcome=Outcome.FAILED)
    activity = owner_client.get(job.get_absolute_url()).context["activity"]
    assert activity.total == 6
    assert [(o, n) for o, _, n in activity.since] == [("failed", 1)]


# Concurrency (PostgreSQL) ---------------------------------------------------------------------


@postgres_only()
@pytest.mark.django_db(transaction=True)
def test_concurrent_reports_of_one_row_lose_no_count(line):
    answers = []
    barrier = threading.Barrier(4)

    def send(n):
        try:
            barrier.wait(timeout=5)
            answers.append(report(Client(), line.token.raw, body(line, external_id=f"C-{n}")))
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(r.status_code for r in answers) == [201] * 4
    assert [r[-1] for r in _rows()] == [4]
