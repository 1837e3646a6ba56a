"""The demo (calls/management/commands/demo.py): a dental practice whose Sona step has jobs with
actions, knowledge and saved test cases, published and passing its own tests."""

import pytest
from django.core.management import call_command

from callflows.models import CallFlowVersion, PhoneNumber
from calls import selectors
from calls.models import StepTestCase
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
    assert StepTestCase.objects.filter(step_key=sona["key"]).count() == 3
    assert selectors.failing_cases(phone.call_flow, version.snapshot) == []


def test_demo_prints_the_login_address_of_the_host_it_will_serve(capsys):
    call_command("demo", "--host", "0.0.0.0:9000")
    assert "http://0.0.0.0:9000/accounts/login/" in capsys.readouterr().out
