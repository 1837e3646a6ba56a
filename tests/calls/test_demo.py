"""The demo (calls/management/commands/demo.py): a dental practice whose Sona step has jobs with
actions, knowledge and saved test cases, published and passing its own tests."""

import pytest
from django.core.management import call_command

from callflows.models import CallFlowVersion, PhoneNumber
from calls import scenarios
from calls.models import Scenario
from jobs import actions
from jobs.models import Job

pytestmark = pytest.mark.django_db


def test_demo_has_published_main_line(capsys):
    call_command("demo")
    call_command("demo")  # idempotent
    phone = PhoneNumber.objects.get(number="+15555550100")
    assert phone.display_name == "Main line" and phone.sms_registered
    version = phone.call_flow.live_version
    assert version.number == 1 and CallFlowVersion.objects.count() == 1
    assert not version.override_reason  # its test cases pass
    kinds = [s["kind"] for s in version.snapshot["steps"]]
    assert kinds[:3] == ["greeting", "business_hours", "sona"]
    sona = next(s for s in version.snapshot["steps"] if s["kind"] == "sona")
    jobs = Job.objects.filter(pk__in=sona["jobs"])
    assert len(sona["jobs"]) == 4 and jobs.count() == 4
    assert "Answer after-hours calls" not in {j.name for j in jobs}
    kinds = {a.type for job in jobs for a in actions.parse(job.instructions)}
    assert kinds == {"send_sms", "transfer_call"}
    assert len(sona["knowledge"]) == 1
    assert Scenario.objects.filter(step_key=sona["key"]).count() == 4
    results = scenarios.snapshot_results(phone.call_flow, version.snapshot)
    assert len(results) == 4 and all(r.passed for _, r in results), results


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1:8123", "http://127.0.0.1:8123/accounts/login/"),
        ("localhost:8001", "http://localhost:8001/accounts/login/"),
        # Listening on every address: the browser on this machine opens the loopback one
        # (http://0.0.0.0:9000 is refused by ALLOWED_HOSTS).
        ("0.0.0.0:9000", "http://127.0.0.1:9000/accounts/login/"),
        ("[::]:9001", "http://127.0.0.1:9001/accounts/login/"),
        ("9002", "http://127.0.0.1:9002/accounts/login/"),  # runserver 9002
    ],
)
def test_demo_prints_the_login_address_of_the_host_it_will_serve(capsys, host, url):
    call_command("demo", "--host", host)
    assert f"Log in at {url} as owner@demo.test" in capsys.readouterr().out


def test_make_run_passes_host_to_the_demo_and_the_server():
    """`make run HOST=…` prints the login address of the server it starts (make -n: dry run)."""
    import shutil
    import subprocess
    from pathlib import Path

    if not shutil.which("make"):
        pytest.skip("make is not installed")
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(  # noqa: S603
        ["make", "-n", "-o", ".venv/.installed", "run", "HOST=0.0.0.0:9000"],  # noqa: S607
        cwd=root, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "manage.py demo --host 0.0.0.0:9000" in out
    assert "manage.py runserver 0.0.0.0:9000" in out


def _demo_calls():
    from calls.models import Call

    return list(
        Call.objects.filter(external_id__startswith="demo-")
        .order_by("external_id")
        .values_list(
            "external_id", "started_at", "caller", "outcome", "job_name", "job_history_id",
            "summary", "actions", "next_steps", "transcript",
        )
    )  # fmt: skip


def test_demo_adds_four_weeks_of_realistic_calls(capsys):
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    from calls.models import Call

    call_command("demo")
    assert "demo calls over the last 28 days" in capsys.readouterr().out
    calls = Call.objects.filter(workspace__slug="demo", source="live")  # and one mock call
    assert 250 <= calls.count() <= 450
    phone = PhoneNumber.objects.get(number="+15555550100")
    assert set(calls.values_list("phone_number", flat=True)) == {phone.pk}
    oldest, newest = calls.order_by("started_at")[0], calls.order_by("-started_at")[0]
    tz = ZoneInfo("America/New_York")
    today = timezone.now().astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
    assert today - timedelta(days=28) <= oldest.started_at < today - timedelta(days=27)
    assert newest.started_at < today
    assert set(calls.values_list("outcome", flat=True)) == {
        "resolved", "message_taken", "transferred", "sms_sent", "voicemail", "caller_hung_up",
        "no_job_matched", "failed",
    }  # fmt: skip
    assert calls.filter(job__isnull=True).exists()
    statuses = {a["status"] for actions in calls.values_list("actions", flat=True) for a in actions}
    assert statuses == {"ok", "failed"}
    assert len({c.job_name for c in calls if c.job_id}) == 5
    assert not calls.filter(summary="").exists()
    assert calls.exclude(next_steps=[]).exists() and calls.exclude(transcript="").exists()


def test_demo_calls_reference_the_job_version_live_at_their_time():
    from calls.models import Call

    call_command("demo")
    job = Job.objects.get(workspace__slug="demo", name="Reschedule or cancel")
    first, edit = job.history.order_by("history_id")
    assert first.history_date < Call.objects.order_by("started_at")[0].started_at
    calls = Call.objects.filter(job=job)
    before, after = (
        calls.filter(started_at__lt=edit.history_date),
        calls.filter(started_at__gte=edit.history_date),
    )
    assert before.exists() and after.exists()  # the edit is part-way through the four weeks
    assert set(before.values_list("job_history_id", flat=True)) == {first.history_id}
    assert set(after.values_list("job_history_id", flat=True)) == {edit.history_id}
    # The edit helped: fewer callers hang up after it.
    hung_up = [q.filter(outcome="caller_hung_up").count() / q.count() for q in (before, after)]
    assert hung_up[0] > hung_up[1]
    for other in Job.objects.filter(workspace__slug="demo").exclude(pk=job.pk):
        ids = set(Call.objects.filter(job=other).values_list("job_history_id", flat=True))
        assert ids <= {other.history.get().history_id}


def test_demo_calls_are_deterministic_and_not_duplicated(capsys):
    from calls.models import Call

    call_command("demo")
    first = _demo_calls()
    capsys.readouterr()
    call_command("demo")
    assert "demo calls" not in capsys.readouterr().out
    assert _demo_calls() == first
    Call.objects.filter(external_id__startswith="demo-").delete()
    call_command("demo")  # built again from the same seed: the same calls
    assert _demo_calls() == first


# A coherent demo (issue 24, point 7) ------------------------------------------------------------


def _steps(version) -> dict:
    return {s["name"]: s for s in version.snapshot["steps"]}


def test_demo_calls_keep_the_practices_opening_hours_in_its_zone():
    """Sona's calls fall in the opening hours of the business-hours step, in the workspace's
    zone; the calls outside them reach the closed branch (the after-hours step or voicemail)."""
    from datetime import time
    from zoneinfo import ZoneInfo

    from calls.models import Call
    from workspaces.models import Workspace

    call_command("demo")
    workspace = Workspace.objects.get(slug="demo")
    assert workspace.time_zone == "America/New_York"
    version = PhoneNumber.objects.get(number="+15555550100").call_flow.live_version
    steps = _steps(version)
    hours = steps["Opening hours"]["settings"]
    assert hours["timezone"] == workspace.time_zone
    assert hours["open_step"] == steps["Sona"]["key"]
    assert hours["closed_step"] == steps["After hours"]["key"]
    tz = ZoneInfo(hours["timezone"])
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

    def is_open(started) -> bool:
        local = started.astimezone(tz)
        ranges = hours["hours"][days[local.weekday()]]
        return any(time.fromisoformat(a) <= local.time() < time.fromisoformat(b) for a, b in ranges)

    closed_keys = {steps["After hours"]["key"], steps["Voicemail"]["key"]}
    calls = list(
        Call.objects.filter(workspace=workspace, source="live").values_list(
            "started_at", "step_key"
        )
    )
    open_calls = [started for started, key in calls if key == steps["Sona"]["key"]]
    assert open_calls and all(is_open(started) for started in open_calls)
    closed_calls = [started for started, key in calls if key in closed_keys]
    assert closed_calls and not any(is_open(started) for started in closed_calls)
    assert len(open_calls) + len(closed_calls) == len(calls)
    # No call in the small hours.
    assert all(7 <= started.astimezone(tz).hour < 21 for started, _ in calls)


def test_the_after_hours_job_is_only_on_the_closed_branch():
    from callflows.models import StepJob
    from calls.models import Call

    call_command("demo")
    version = PhoneNumber.objects.get(number="+15555550100").call_flow.live_version
    steps = _steps(version)
    after_hours = Job.objects.get(workspace__slug="demo", name="Answer after-hours calls")
    assert steps["After hours"]["jobs"] == [after_hours.pk]
    assert after_hours.pk not in steps["Sona"]["jobs"]
    assert set(StepJob.objects.filter(job=after_hours).values_list("step__name", flat=True)) == {
        "After hours"
    }
    taken = Call.objects.filter(job=after_hours)
    assert taken.exists()
    assert set(taken.values_list("step_key", flat=True)) == {steps["After hours"]["key"]}


def test_demo_history_dates_agree_with_activity():
    """Each job's versions are dated when Activity says it was created or changed; the whole
    set-up before the first call."""
    from calls.models import Call
    from workspaces.models import AuditEvent

    call_command("demo")
    first_call = Call.objects.filter(workspace__slug="demo").order_by("started_at")[0]
    assert first_call.source == "live"
    events = AuditEvent.objects.filter(workspace__slug="demo")
    for job in Job.objects.filter(workspace__slug="demo"):
        dates = list(job.history.order_by("history_id").values_list("history_date", flat=True))
        created = events.get(action="job.created", object_id=str(job.pk)).created_at
        assert dates[0] == created < first_call.started_at
        changed = list(
            events.filter(action="job.edited", object_id=str(job.pk))
            .order_by("created_at")
            .values_list("created_at", flat=True)
        )
        assert dates[1:] == changed
        assert job.updated_at == dates[-1]
    version = CallFlowVersion.objects.get(call_flow__phone_number__number="+15555550100")
    published = events.get(action="callflow.published").created_at
    assert version.published_at == published < first_call.started_at
    # Nothing of the set-up claims to have happened today (today: the alert check and the
    # owner's mock call, both dated today on their pages too).
    from django.utils import timezone

    today = events.exclude(action__startswith="alert").exclude(action__startswith="call.mock")
    assert not today.filter(created_at__date=timezone.now().date()).exists()


def test_demo_has_a_true_alert_and_scenarios():
    from outcomes.models import Alert

    call_command("demo")
    alerts = Alert.objects.filter(workspace__slug="demo")
    assert alerts.count() >= 1
    alert = alerts.get()
    assert alert.resolved_at is None and "No job matched" in alert.message
    from workspaces.models import Workspace

    assert Workspace.objects.get(slug="demo").open_alerts == 1
    assert Scenario.objects.filter(call_flow__phone_number__number="+15555550100").count() >= 4


def test_the_demos_home_checklist_is_done():
    from calls.models import Call
    from outcomes.home import checklist
    from workspaces.models import Workspace

    call_command("demo")
    call_command("demo")  # idempotent: one mock call
    workspace = Workspace.objects.get(slug="demo")
    assert Call.objects.filter(workspace=workspace, source="mock").count() == 1
    assert checklist(workspace).complete
