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
    assert len(sona["jobs"]) == 5 and jobs.count() == 5
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

    from django.utils import timezone

    from calls.models import Call

    call_command("demo")
    assert "demo calls over the last 28 days" in capsys.readouterr().out
    calls = Call.objects.filter(workspace__slug="demo")
    assert 250 <= calls.count() <= 450
    phone = PhoneNumber.objects.get(number="+15555550100")
    assert set(calls.values_list("phone_number", flat=True)) == {phone.pk}
    oldest, newest = calls.order_by("started_at")[0], calls.order_by("-started_at")[0]
    today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
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
