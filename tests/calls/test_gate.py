"""Saved test cases gate publishing (calls/gates.py, registered in callflows.checks): failing
cases refuse callflow_publish unless the publisher gives a reason, kept on the version and in
the audit event."""

import pytest
from django.core.exceptions import ValidationError

from callflows import checks
from callflows import services as cf
from callflows.models import CallFlowVersion
from callflows.snapshots import build_snapshot
from calls import gates
from jobs import services as js
from workspaces.models import AuditEvent

from .conftest import SAYS, save_case

pytestmark = pytest.mark.django_db


def _case(line, said=SAYS["booking"], job="booking", **kwargs):
    job = getattr(line, job) if job else None
    return save_case(
        call_flow=line.flow, user=line.owner, step_key=line.sona.key, said=said, job=job, **kwargs
    )


def _versions(line):
    return list(CallFlowVersion.objects.filter(call_flow=line.flow).values_list("number", "pk"))


def _refused(line, **kwargs) -> list[str]:
    before = _versions(line)
    with pytest.raises(ValidationError) as exc:
        cf.callflow_publish(call_flow=line.flow, user=line.owner, **kwargs)
    assert _versions(line) == before
    return exc.value.messages


def test_the_gate_is_registered():
    assert gates.failing_scenarios in checks._test_gates


def test_passing_cases_let_publish_go_without_a_reason(line):
    _case(line)
    _case(line, said=SAYS["nothing"], job=None)
    _case(line, said=SAYS["hours"], job="hours", expected_action="send_sms")
    version = cf.callflow_publish(call_flow=line.flow, user=line.owner)
    assert version.number == 1 and version.override_reason == ""
    event = AuditEvent.objects.get(action="callflow.published")
    assert "override_reason" not in event.details


def test_detaching_the_expected_job_refuses_publish_naming_the_case(published):
    line = published
    _case(line)
    cf.step_detach_job(step=line.sona, job=line.booking, user=line.owner)
    messages = _refused(line)
    assert messages == [
        checks.TESTS_FAILED,
        "Scenario “I want to book a table for two” on “Sona”: Expects “Book a table”, which is "
        "not attached to Sona.",
    ]


def test_an_override_reason_publishes_and_is_kept(published):
    line = published
    _case(line)
    cf.step_detach_job(step=line.sona, job=line.booking, user=line.owner)
    version = cf.callflow_publish(
        call_flow=line.flow, user=line.owner, override_reason="  Bookings move to the web.  "
    )
    version.refresh_from_db()
    assert (version.number, version.override_reason) == (2, "Bookings move to the web.")
    event = AuditEvent.objects.get(action="callflow.published", object_id=str(version.pk))
    assert event.details["override_reason"] == "Bookings move to the web."


@pytest.mark.parametrize("reason", ["", "   ", "\n\t"])
def test_an_empty_or_blank_reason_is_no_reason(published, reason):
    line = published
    _case(line)
    cf.step_detach_job(step=line.sona, job=line.booking, user=line.owner)
    assert _refused(line, override_reason=reason)[0] == checks.TESTS_FAILED


def test_an_over_long_reason_is_refused(published):
    line = published
    _case(line)
    cf.step_detach_job(step=line.sona, job=line.booking, user=line.owner)
    messages = _refused(line, override_reason="x" * 501)
    assert messages == ["A reason can be at most 500 characters (it has 501)."]


def test_a_reason_is_not_kept_when_nothing_fails(line):
    _case(line)
    version = cf.callflow_publish(call_flow=line.flow, user=line.owner, override_reason="Just so")
    assert version.override_reason == ""


def test_a_deleted_expected_job_fails_its_case(published):
    line = published
    _case(line)
    cf.step_detach_job(step=line.sona, job=line.booking, user=line.owner)
    cf.callflow_publish(call_flow=line.flow, user=line.owner, override_reason="Moving to web")
    js.job_delete(job=line.booking, user=line.owner)  # no live version uses it any more
    cf.step_attach_job(step=line.sona, job=js.job_create(
        workspace=line.workspace, user=line.owner, data={"name": "New", "instructions": "1. Hi."}
    ), user=line.owner)  # fmt: skip
    messages = _refused(line)
    assert messages[1] == (
        "Scenario “I want to book a table for two” on “Sona”: Expects “Book a table”, which is "
        "not attached to Sona."
    )


def test_a_case_whose_job_row_is_gone_fails_as_deleted(line):
    case = _case(line)
    line.booking.delete()  # the row itself (a workspace purge): the name stays expected
    case.refresh_from_db()
    assert case.expect == {"job": "Book a table"}
    messages = _refused(line)
    assert messages[1].endswith("Expects “Book a table”, which is not attached to Sona.")


def test_an_expected_action_no_longer_in_the_job_fails(line):
    _case(line, said=SAYS["hours"], job="hours", expected_action="send_sms")
    js.job_update(
        job=line.hours, user=line.owner, data={"instructions": "1. Tell the caller the hours."}
    )
    messages = _refused(line)
    assert messages[1] == (
        "Scenario “When are you open” on “Sona”: Turn 1: expected send_sms; Sona would not "
        "perform it (on “Opening hours”)."
    )


def test_a_case_expecting_no_job_fails_when_a_job_matches(line):
    _case(line, said=SAYS["booking"], job=None)
    # The case itself is no example (it expects no job): the booking job still matches.
    messages = _refused(line)
    assert messages[1] == (
        "Scenario “I want to book a table for two” on “Sona”: Turn 1: expected no job by the "
        "end; Sona picked “Book a table”."
    )


def test_cases_of_a_removed_step_wait_for_it(published):
    line = published
    _case(line)
    cf.step_remove(step=line.sona, user=line.owner)
    assert gates.failing_scenarios(line.flow, build_snapshot(line.flow)) == []


def test_the_rule_is_held_by_the_service(published, monkeypatch):
    """Break the rule on purpose: without the override check a failing case goes live."""
    line = published
    _case(line)
    cf.step_detach_job(step=line.sona, job=line.booking, user=line.owner)
    monkeypatch.setattr(checks, "_test_gates", [])
    assert cf.callflow_publish(call_flow=line.flow, user=line.owner).number == 2
