"""The alert check: each rule raises on its data and not below its threshold, once per rule and
window, resolves itself when the condition clears; the command, the beat entry, the emails."""

import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from callflows import services as callflow_services
from calls.models import Call, DailyOutcome, Outcome, Source
from outcomes import alerts
from outcomes.alerts import check_alerts
from outcomes.models import Alert, AlertRule, RuleKind
from tests.conftest import attach, postgres_only, sona_of
from tests.factories import (
    CallFactory,
    JobFactory,
    MembershipFactory,
    WebhookEndpointFactory,
    WorkspaceFactory,
)
from webhooks.models import WebhookOutbox
from workspaces.models import AuditEvent, Role
from workspaces.services import workspace_create

pytestmark = pytest.mark.django_db

# Noon today (UTC, the factories' zone): every call of a test falls on the same day.
NOW = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)


@pytest.fixture
def line(phone, owner):
    """The phone's call flow published: its Sona step is live."""
    callflow_services.callflow_publish(call_flow=phone.call_flow, user=owner)
    phone.refresh_from_db()
    return phone


def _calls(phone, outcomes, *, step=None, start=NOW, **fields):
    step = step if step is not None else sona_of(phone)
    for i, outcome in enumerate(outcomes):
        CallFactory(
            phone_number=phone,
            step_key=step.key,
            step_name=step.name,
            outcome=outcome,
            started_at=start - timedelta(minutes=i + 1),
            **fields,
        )


def _no_job(k, n):
    return [Outcome.NO_JOB_MATCHED] * k + [Outcome.RESOLVED] * (n - k)


def test_every_workspace_starts_with_the_three_rules_on(owner):
    created = workspace_create(name="New one", owner=owner)
    for ws in (created, WorkspaceFactory()):
        rules = {r.kind: r for r in AlertRule.objects.filter(workspace=ws)}
        assert set(rules) == set(RuleKind.values)
        assert all(r.enabled for r in rules.values())
        rule = rules[RuleKind.NO_JOB_MATCHED]
        assert (rule.percent, rule.calls, rules[RuleKind.FAILED_ACTIONS].per_day) == (15, 50, 3)


# No job matched ---------------------------------------------------------------------------


def test_no_job_matched_above_15_percent_of_the_last_50_raises(line):
    _calls(line, _no_job(8, 50))  # 16%
    result = check_alerts(now=NOW)
    [alert] = result.raised
    assert alert.rule.kind == RuleKind.NO_JOB_MATCHED
    assert alert.message == (
        f"No job matched 8 of the last 50 calls on step “Sona” of Main line ({line.number}) "
        "(16%, above 15%)."
    )
    assert len(alert.details["calls"]) == 8
    assert f"number={line.pk}" in alert.details["calls_url"]
    assert "outcome=no_job_matched" in alert.details["calls_url"]
    assert alert.details["change_url"].endswith(
        f"/numbers/{line.pk}/versions/{line.call_flow.live_version_id}/compare/"
    )
    assert AuditEvent.objects.filter(action="alert.raised", object_id=str(alert.pk)).count() == 1


def test_no_job_matched_at_or_below_the_threshold_or_too_few_calls_raises_nothing(line):
    _calls(line, _no_job(7, 50))  # 14%
    assert check_alerts(now=NOW).raised == []


def test_no_job_matched_needs_a_full_sample(line):
    _calls(line, _no_job(20, 20))  # all of them, but only 20 calls
    assert check_alerts(now=NOW).raised == []


def test_only_the_last_50_real_calls_count(line):
    _calls(line, _no_job(0, 50))  # the newest 50: all matched
    _calls(line, _no_job(50, 50), start=NOW - timedelta(days=1))  # older ones: none matched
    _calls(line, _no_job(50, 50), source=Source.MOCK)  # mock calls never count
    assert check_alerts(now=NOW).raised == []


def test_a_disabled_rule_raises_nothing(line, workspace):
    AlertRule.objects.filter(workspace=workspace).update(enabled=False)
    _calls(line, _no_job(50, 50))
    assert check_alerts(now=NOW).raised == []


def test_the_step_stays_one_alert_while_it_holds_then_resolves_itself(line):
    _calls(line, _no_job(10, 50))
    [alert] = check_alerts(now=NOW).raised
    _calls(line, _no_job(10, 10), start=NOW + timedelta(minutes=5))  # worse still
    again = check_alerts(now=NOW + timedelta(minutes=10))
    assert (again.raised, again.resolved) == ([], [])
    _calls(line, _no_job(0, 50), start=NOW + timedelta(minutes=60))  # cleared
    cleared = check_alerts(now=NOW + timedelta(minutes=70))
    assert [a.pk for a in cleared.resolved] == [alert.pk]
    alert.refresh_from_db()
    assert alert.resolved_at is not None and alert.resolved_automatically
    event = AuditEvent.objects.get(action="alert.resolved")
    assert event.actor is None and event.details["automatic"] is True


# Failed transfers or SMS ---------------------------------------------------------------------

FAILED_SMS = {"type": "send_sms", "status": "failed", "detail": "carrier refused"}
FAILED_TRANSFER = {"type": "transfer_call", "status": "failed", "detail": "busy"}
OK_SMS = {"type": "send_sms", "status": "ok", "detail": ""}


def test_three_failed_transfers_or_sms_in_a_day_raise(line):
    _calls(line, [Outcome.SMS_SENT], actions=[FAILED_SMS, FAILED_TRANSFER])
    _calls(line, [Outcome.TRANSFERRED], actions=[FAILED_TRANSFER, OK_SMS])
    [alert] = check_alerts(now=NOW).raised
    assert alert.rule.kind == RuleKind.FAILED_ACTIONS
    assert alert.message.startswith(f"3 failed transfers or SMS on Main line ({line.number}) on ")
    assert "(2 transfers, 1 SMS; the rule alerts at 3)" in alert.message
    day = NOW.date().isoformat()
    assert f"date_from={day}" in alert.details["calls_url"]
    assert len(alert.details["calls"]) == 2


def test_two_failures_or_yesterdays_or_mock_ones_raise_nothing(line):
    _calls(line, [Outcome.SMS_SENT], actions=[FAILED_SMS, FAILED_TRANSFER, OK_SMS])
    _calls(line, [Outcome.SMS_SENT], actions=[FAILED_SMS] * 3, start=NOW - timedelta(days=1))
    _calls(line, [Outcome.SMS_SENT], actions=[FAILED_SMS] * 3, source=Source.MOCK)
    assert check_alerts(now=NOW).raised == []


def test_failures_raise_once_a_day_and_again_on_a_later_day(line):
    _calls(line, [Outcome.SMS_SENT], actions=[FAILED_SMS] * 3)
    [first] = check_alerts(now=NOW).raised
    first_resolved = check_alerts(now=NOW + timedelta(days=1)).resolved  # a new day, no failures
    assert [a.pk for a in first_resolved] == [first.pk]
    _calls(line, [Outcome.SMS_SENT], actions=[FAILED_SMS] * 3, start=NOW + timedelta(days=2))
    [second] = check_alerts(now=NOW + timedelta(days=2)).raised
    assert second.window != first.window and second.subject == first.subject


# A worse change -------------------------------------------------------------------------------


@pytest.fixture
def edited_job(phone, owner, workspace):
    """A job on the live step, edited once: (job, version before, version after)."""
    job = JobFactory(workspace=workspace, name="Book a cleaning")
    attach(sona_of(phone), [job], owner)
    callflow_services.callflow_publish(call_flow=phone.call_flow, user=owner)
    before = job.history.latest("history_id").history_id
    # the version before the edit was saved ten days ago (its calls come after it)
    job.history.filter(history_id=before).update(history_date=NOW - timedelta(days=10))
    job.instructions = "1. Ask for the date.\n2. Book it."
    job.save()
    after = job.history.latest("history_id").history_id
    return job, before, after


def _job_calls(phone, job, version, resolved, total, start=NOW):
    outcomes = [Outcome.RESOLVED] * resolved + [Outcome.CALLER_HUNG_UP] * (total - resolved)
    _calls(phone, outcomes, start=start, job=job, job_name=job.name, job_history_id=version)


def test_a_worse_edit_raises_once_and_not_again_in_its_window(phone, edited_job, owner):
    job, before, after = edited_job
    _job_calls(phone, job, before, 36, 40, start=NOW - timedelta(days=3))
    _job_calls(phone, job, after, 10, 40)
    [alert] = check_alerts(now=NOW).raised
    assert alert.rule.kind == RuleKind.WORSE_CHANGE
    assert alert.window == f"job:{job.pk}:{after}"
    assert "its calls were resolved 25% (10 of 40 calls), down from 90% (36 of 40 calls)" in (
        alert.message
    )
    assert alert.details["change_url"] == f"/jobs/{job.pk}/history/compare/?a={before}&b={after}"
    assert alert.details["rollback_url"] == f"/jobs/{job.pk}/history/{before}/restore/"
    assert alert.details["calls_url"] == f"/calls/?job={job.pk}"
    # the next checks: it still holds, the same alert stands, nothing new
    for minutes in (10, 20):
        again = check_alerts(now=NOW + timedelta(minutes=minutes))
        assert (again.raised, again.resolved) == ([], [])
    # resolved by hand while it still holds: its window raises nothing again
    from outcomes.services import alert_resolve

    alert_resolve(alert=alert, user=owner)
    assert check_alerts(now=NOW + timedelta(minutes=30)).raised == []
    assert Alert.objects.count() == 1


def test_an_edit_that_is_not_clearly_worse_raises_nothing(phone, edited_job):
    job, before, after = edited_job
    _job_calls(phone, job, before, 36, 40, start=NOW - timedelta(days=3))
    _job_calls(phone, job, after, 30, 40)  # a little lower: no clear change
    result = check_alerts(now=NOW)
    assert [a for a in result.raised if a.rule.kind == RuleKind.WORSE_CHANGE] == []


def test_too_few_calls_after_an_edit_raise_nothing(phone, edited_job):
    job, before, after = edited_job
    _job_calls(phone, job, before, 40, 40, start=NOW - timedelta(days=3))
    _job_calls(phone, job, after, 0, 20)  # below MIN_CALLS
    assert check_alerts(now=NOW).raised == []


def test_a_worse_edit_alert_resolves_itself_when_the_rate_recovers(phone, edited_job):
    job, before, after = edited_job
    _job_calls(phone, job, before, 36, 40, start=NOW - timedelta(days=3))
    _job_calls(phone, job, after, 10, 40, start=NOW - timedelta(hours=2))
    [alert] = check_alerts(now=NOW).raised
    _job_calls(phone, job, after, 200, 200, start=NOW + timedelta(hours=5))
    assert [a.pk for a in check_alerts(now=NOW + timedelta(hours=6)).resolved] == [alert.pk]
    assert check_alerts(now=NOW + timedelta(hours=7)).raised == []


def test_a_worse_publish_raises_with_the_rollback(line, owner, workspace):
    """Version 2 published 5 days ago; version 1 was live the 20 days before."""
    previous = line.call_flow.live_version
    job = JobFactory(workspace=workspace)
    attach(sona_of(line), [job], owner)
    live = callflow_services.callflow_publish(call_flow=line.call_flow, user=owner)
    from callflows.models import CallFlowVersion

    CallFlowVersion.objects.filter(pk=previous.pk).update(published_at=NOW - timedelta(days=20))
    CallFlowVersion.objects.filter(pk=live.pk).update(published_at=NOW - timedelta(days=5))
    outcomes_before = [Outcome.RESOLVED] * 45 + [Outcome.CALLER_HUNG_UP] * 5
    outcomes_after = [Outcome.RESOLVED] * 15 + [Outcome.CALLER_HUNG_UP] * 35
    # each call names the version that answered it (the rollups count per version)
    _calls(line, outcomes_before, start=NOW - timedelta(days=10), version_number=previous.number)
    _calls(line, outcomes_after, start=NOW - timedelta(days=2), version_number=live.number)
    [alert] = check_alerts(now=NOW).raised
    assert alert.window == f"publish:{line.pk}:{live.pk}"
    assert "Since version 2 of Main line" in alert.message
    assert "30% (15 of 50 calls), down from 90% (45 of 50 calls) under version 1" in alert.message
    assert alert.details["rollback_url"] == f"/numbers/{line.pk}/versions/{previous.pk}/rollback/"
    assert alert.details["rollback_label"] == "Roll back to version 1"


# Emails, webhook data ------------------------------------------------------------------------


def test_the_alert_is_emailed_to_opted_in_owners_and_admins_only(
    line, workspace, owner, django_capture_on_commit_callbacks
):
    owner.memberships.filter(workspace=workspace).update(alert_emails=True)
    MembershipFactory(workspace=workspace, role=Role.ADMIN)  # not opted in
    opted_admin = MembershipFactory(workspace=workspace, role=Role.ADMIN, alert_emails=True)
    MembershipFactory(workspace=workspace, role=Role.MEMBER, alert_emails=True)  # a member
    _calls(line, _no_job(10, 50))
    with django_capture_on_commit_callbacks(execute=True):
        [alert] = check_alerts(now=NOW).raised
    assert sorted(m.to[0] for m in mail.outbox) == sorted([owner.email, opted_admin.user.email])
    body = mail.outbox[0].body
    assert alert.message in body
    assert f"{settings.PLAYBOOK_BASE_URL.rstrip('/')}/alerts/#alert-{alert.pk}" in body
    assert "The calls: " in body and "Roll back" not in body  # version 1 has nothing before it
    with django_capture_on_commit_callbacks(execute=True):
        check_alerts(now=NOW + timedelta(minutes=10))  # the same window: no second email
    assert len(mail.outbox) == 2


def test_a_raised_alert_writes_its_webhook_message_once(line):
    """alert.raised goes out through the outbox, written in the raise's transaction: the
    message names the rule, the window and the links; the same window raises nothing again."""
    endpoint = WebhookEndpointFactory(workspace=line.workspace, events=["alert.raised"])
    WebhookEndpointFactory(workspace=line.workspace, events=["call.reported"])  # not subscribed
    _calls(line, _no_job(10, 50))
    [alert] = check_alerts(now=NOW).raised
    [row] = WebhookOutbox.objects.all()
    message = json.loads(row.payload)
    assert (row.endpoint, row.event, message["type"]) == (endpoint, "alert.raised", "alert.raised")
    data = message["data"]
    assert data["rule"] == "no_job_matched" and data["window"] == alert.window
    assert data["message"] == alert.message
    assert data["links"]["alert_url"] == f"/alerts/#alert-{alert.pk}"
    assert data["links"]["calls"][0].startswith("/calls/")
    assert data["links"]["change_url"].startswith(f"/numbers/{line.pk}/versions/")
    check_alerts(now=NOW + timedelta(minutes=10))
    assert WebhookOutbox.objects.count() == 1


# The check's cost ----------------------------------------------------------------------------


def test_the_check_makes_the_same_queries_at_10_and_100_calls(line, edited_job):
    job, before, after = edited_job
    counts = []
    for n in (10, 90):  # 10 calls, then 100
        _calls(line, _no_job(0, n), start=NOW - timedelta(hours=len(counts) + 1), job=job)
        _calls(line, [Outcome.RESOLVED], actions=[OK_SMS])
        with CaptureQueriesContext(connection) as ctx:
            result = check_alerts(now=NOW)
        assert result.raised == []
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts


@postgres_only()
def test_the_step_rule_reads_the_numbers_index_newest_first(line):
    _calls(line, _no_job(1, 5))
    # Other numbers' calls, as in any real table: on a table of a few rows any index is as
    # cheap, and the planner may walk the admin's all-numbers index (call_started) instead.
    other = CallFactory(started_at=NOW - timedelta(days=1))
    Call.objects.bulk_create(
        Call(
            workspace_id=other.workspace_id,
            phone_number_id=other.phone_number_id,
            number=other.number,
            source=Source.LIVE,
            started_at=NOW - timedelta(minutes=i),
            outcome=Outcome.RESOLVED,
        )
        for i in range(3000)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Call._meta.db_table}")
    queryset = alerts.step_calls(
        line.pk, sona_of(line).key, since=NOW - timedelta(days=30), limit=50
    )
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a test's few rows would be read whole
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Limit" in plan and "call_number_recent" in plan, plan
    assert "Sort" not in plan, plan  # read in index order: it stops after 50 rows


# The command and the schedule ------------------------------------------------------------------


def test_the_command_prints_what_it_raised_and_resolved(line, workspace, capsys):
    _calls(line, _no_job(10, 50), start=timezone.now())
    call_command("check_alerts", "--workspace", workspace.slug)
    out = capsys.readouterr().out
    assert "Raised (" in out and "No job matched 10 of the last 50 calls" in out
    assert "1 alert(s) raised, 0 resolved." in out
    call_command("check_alerts")
    assert "0 alert(s) raised, 0 resolved." in capsys.readouterr().out


def test_the_command_refuses_an_unknown_workspace():
    with pytest.raises(CommandError, match="No workspace with the slug 'nope'"):
        call_command("check_alerts", "--workspace", "nope")


def test_a_failing_check_exits_non_zero(line, monkeypatch):
    def broken(ctx, rule):
        raise RuntimeError("boom")

    monkeypatch.setitem(alerts.CHECKS, RuleKind.FAILED_ACTIONS, broken)
    with pytest.raises(CommandError, match="The alert check failed for"):
        call_command("check_alerts")


def test_beat_runs_the_check_every_ten_minutes_by_default():
    from outcomes import tasks

    entry = settings.CELERY_BEAT_SCHEDULE["outcomes.check-alerts"]
    assert entry["task"] == tasks.check_alerts.name == "outcomes.tasks.check_alerts"
    assert entry["schedule"] == timedelta(seconds=settings.ALERT_CHECK_SECONDS)
    assert settings.ALERT_CHECK_SECONDS == 600


def test_the_task_runs_the_check(line):
    from outcomes import tasks

    _calls(line, _no_job(10, 50), start=timezone.now())
    assert tasks.check_alerts.delay().get() == {"raised": 1, "resolved": 0}


def test_the_database_holds_one_alert_per_rule_and_window(line, workspace):
    from django.db import IntegrityError, transaction

    from outcomes.services import alert_raise

    rule = AlertRule.objects.get(workspace=workspace, kind=RuleKind.NO_JOB_MATCHED)
    fields = {"rule": rule, "subject": "s", "window": "s:1", "message": "m", "details": {}}
    assert alert_raise(**fields, now=NOW) is not None
    assert alert_raise(**fields, now=NOW) is None  # the same window: nothing, no second event
    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.create(workspace=workspace, rule=rule, subject="s", window="s:1")
    assert AuditEvent.objects.filter(action="alert.raised").count() == 1
    assert workspace.__class__.objects.get(pk=workspace.pk).open_alerts == 1


# The failed actions in the daily rollups (calls/rollups.py) -------------------------------------


def _failed_rows(workspace):
    return sorted(
        DailyOutcome.objects.filter(workspace=workspace, failed_actions__gt=0).values_list(
            "phone_number_id", "day", "outcome", "count", "failed_actions"
        )
    )


def test_the_rollups_count_failed_actions_on_report_prune_and_rebuild(line, workspace):
    from calls import rollups, services
    from workspaces.models import Workspace

    Workspace.objects.filter(pk=workspace.pk).update(call_retention_days=30)
    old = NOW - timedelta(days=40)
    _calls(line, [Outcome.SMS_SENT], actions=[FAILED_SMS, FAILED_TRANSFER, OK_SMS], start=old)
    _calls(line, [Outcome.SMS_SENT] * 2, actions=[FAILED_SMS])
    _calls(line, [Outcome.SMS_SENT], actions=[FAILED_SMS] * 5, source=Source.MOCK)  # never
    _calls(line, [Outcome.RESOLVED], actions=[{"type": "other", "status": "failed"}, "junk"])
    today, then = NOW.date(), (old - timedelta(minutes=1)).date()
    assert _failed_rows(workspace) == [
        (line.pk, then, "sms_sent", 1, 2),
        (line.pk, today, "sms_sent", 2, 2),
    ]
    incremental = _failed_rows(workspace)
    rollups.rebuild(Workspace.objects.get(pk=workspace.pk))
    assert _failed_rows(workspace) == incremental
    services.calls_prune(workspace=workspace, now=NOW)
    assert _failed_rows(workspace) == [(line.pk, today, "sms_sent", 2, 2)]


def test_a_reported_calls_failed_actions_are_counted(client, workspace, owner, edited_job, phone):
    from types import SimpleNamespace

    from tests.calls.test_calls_api import body, report
    from workspaces.services import api_token_create

    job, _, _ = edited_job
    token = api_token_create(workspace=workspace, name="runtime", user=owner)
    line = SimpleNamespace(phone=phone, sona=sona_of(phone), job=job)
    actions = [FAILED_SMS, FAILED_TRANSFER, OK_SMS]
    assert report(client, token.raw, body(line, actions=actions)).status_code == 201
    assert DailyOutcome.objects.get(workspace=workspace).failed_actions == 2
