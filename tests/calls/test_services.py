"""calls/services/: a mock call ends as a stored call; test cases are saved and deleted."""

import pytest
from django.core.exceptions import ValidationError

from callflows import services as cf
from calls import services
from calls.models import Call, Outcome, Scenario, Source
from jobs import services as js
from tests.factories import MembershipFactory, ScenarioFactory
from tests.test_roles import fingerprint
from workspaces.models import AuditEvent, Role
from workspaces.permissions import RoleRequired

from .conftest import SAYS, router_says

pytestmark = pytest.mark.django_db


def _calls_and_cases():
    return fingerprint(), list(Call.objects.values()), list(Scenario.objects.values())


def _generation(phone):
    phone.refresh_from_db()
    return phone.live_generation


# Mock calls ---------------------------------------------------------------------------------


def test_a_mock_call_is_stored_with_its_job_version_outcome_and_summary(line):
    call = services.mock_call_end(call_flow=line.flow, user=line.owner, turns=[SAYS["hours"]])
    call.refresh_from_db()
    latest = line.hours.history.order_by("-history_id").first().history_id
    assert (call.source, call.workspace, call.phone_number, call.number) == (
        Source.MOCK,
        line.workspace,
        line.phone,
        "+15555550123",
    )
    assert (call.job, call.job_name, call.job_history_id) == (line.hours, "Opening hours", latest)
    assert (call.step_key, call.step_name, call.version_number) == (line.sona.key, "Sona", None)
    assert call.outcome == Outcome.SMS_SENT and 0 < call.score <= 1
    assert call.actions == [
        {
            "type": "send_sms",
            "status": "not_sent",
            "detail": "Send SMS to the caller: We are open 9 to 5 every day.",
        }
    ]
    assert call.next_steps == ["Send SMS to the caller: We are open 9 to 5 every day."]
    assert call.created_by == line.owner and call.caller == "anonymous"
    assert call.summary.startswith("Mock call against the draft, Sona.")
    assert "Sona picked “Opening hours”" in call.summary
    assert call.summary.endswith("Nothing was sent to anyone: this was a mock call.")
    assert call.transcript.splitlines()[0] == "Caller: When are you open"
    assert call.transcript.splitlines()[1].startswith("Sona [Opening hours, ")


def test_the_history_id_is_the_jobs_latest_version(line):
    js.job_update(job=line.hours, user=line.owner, data={"description": "Edited."})
    call = services.mock_call_end(call_flow=line.flow, user=line.owner, turns=[SAYS["hours"]])
    assert call.job_history_id == line.hours.history.latest("history_id").history_id
    assert line.hours.history.count() == 2


@pytest.mark.parametrize(
    ("said", "outcome", "types"),
    [
        (SAYS["nothing"], Outcome.NO_JOB_MATCHED, []),
        (SAYS["manager"], Outcome.TRANSFERRED, ["transfer_call"]),
        (SAYS["booking"], Outcome.RESOLVED, []),
    ],
)
def test_outcomes(line, said, outcome, types):
    call = services.mock_call_end(call_flow=line.flow, user=line.owner, turns=[said])
    assert call.outcome == outcome
    assert [a["type"] for a in call.actions] == types
    assert all(a["status"] == "not_sent" for a in call.actions)


def test_an_action_detail_keeps_its_last_character(line):
    js.job_update(
        job=line.hours,
        user=line.owner,
        data={
            "instructions": "1. [[Send SMS: Our hours, in short:]]\n2. [[Transfer call: number +15555550124]]"
        },
    )
    call = services.mock_call_end(call_flow=line.flow, user=line.owner, turns=[SAYS["hours"]])
    assert [a["detail"] for a in call.actions] == [
        "Send SMS to the caller: Our hours, in short:",
        "Transfer call to Front desk (+15555550124)",
    ]


def test_no_job_is_stored_as_such(line):
    call = services.mock_call_end(call_flow=line.flow, user=line.owner, turns=[SAYS["nothing"]])
    assert (call.job, call.job_name, call.job_history_id, call.score) == (None, "", None, None)
    assert call.outcome == "no_job_matched"
    assert (
        "Turn 1: the caller said “Hello there”. No job fits: Sona says what the business can "
        "help with."
    ) in call.summary
    assert call.transcript == (
        "Caller: Hello there\n"
        "Sona [no job fits]: I can help with: Book a table, Opening hours, Complaint."
    )


def test_transfer_names_the_workspace_number(line):
    call = services.mock_call_end(call_flow=line.flow, user=line.owner, turns=[SAYS["manager"]])
    assert call.actions == [
        {
            "type": "transfer_call",
            "status": "not_sent",
            "detail": "Transfer call to Front desk (+15555550124) "
            "(Sona says first: “Let me put you through to the desk.”)",
        }
    ]


def test_a_later_vague_turn_keeps_the_job(line):
    call = services.mock_call_end(
        call_flow=line.flow, user=line.owner, turns=[SAYS["hours"], "yes please"]
    )
    assert call.job == line.hours and call.outcome == Outcome.SMS_SENT
    assert call.transcript.count("Sona [Opening hours") == 2


def test_draft_and_live_versions(published):
    line = published
    cf.step_detach_job(step=line.sona, job=line.hours, user=line.owner)  # the draft only
    draft = services.mock_call_end(call_flow=line.flow, user=line.owner, turns=[SAYS["hours"]])
    live = services.mock_call_end(
        call_flow=line.flow, user=line.owner, turns=[SAYS["hours"]], version="live"
    )
    # The draft lost Opening hours: it routes to another job or none, and sends no SMS.
    said = router_says(line.flow, SAYS["hours"])
    assert line.hours.pk not in {m.id for m in said.ranking}
    assert (draft.version_number, getattr(draft.job, "pk", None)) == (
        None,
        getattr(said.job, "id", None),
    )
    assert draft.job != line.hours and draft.outcome != "sms_sent"
    assert (live.version_number, live.job, live.outcome) == (1, line.hours, "sms_sent")
    assert live.summary.startswith("Mock call against the live version 1, Sona.")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"turns": []}, "Say something first: a mock call needs at least one turn."),
        ({"turns": ["   "]}, "Turn 1 is empty: type what the caller says."),
        ({"turns": ["ok", "x" * 501]}, "Turn 2 can be at most 500 characters (it has 501)."),
        ({"turns": ["bad\x00turn"]}, "Turn 1 contains a character that cannot be stored"),
        ({"turns": [42]}, "Turn 1 must be text."),
        ({"turns": ["hi"] * 31}, "A mock call can have at most 30 turns."),
        (
            {"turns": ["hi"], "version": "live"},
            "This number has no live version yet: publish it first, or test the draft.",
        ),
        ({"turns": ["hi"], "step_key": "nope"}, "The draft has no Sona step “nope”."),
        ({"turns": ["hi"], "version": "old"}, "Choose the draft or the live version, not “old”."),
    ],
)
def test_refusals_store_nothing(line, kwargs, message):
    before = _calls_and_cases()
    with pytest.raises(ValidationError) as exc:
        services.mock_call_end(call_flow=line.flow, user=line.owner, **kwargs)
    assert message in " ".join(exc.value.messages)
    assert _calls_and_cases() == before


def test_a_flow_without_sona_step(line):
    cf.step_remove(step=line.sona, user=line.owner)
    with pytest.raises(ValidationError, match="This call flow has no Sona step to test."):
        services.mock_call_end(call_flow=line.flow, user=line.owner, turns=["hi"])
    assert not Call.objects.exists()


def test_a_member_may_run_a_mock_call(line, member):
    call = services.mock_call_end(call_flow=line.flow, user=member, turns=[SAYS["hours"]])
    assert call.created_by == member
    event = AuditEvent.objects.get(action="call.mock_ended")
    assert (event.actor, event.workspace, event.object_id) == (member, line.workspace, str(call.pk))
    assert event.details == {
        "version": "draft",
        "job": "Opening hours",
        "outcome": "sms_sent",
        "decision": "job",
    }
    assert event.object_label == "Mock call on Main line"


def test_an_outsider_is_refused_and_recorded(line):
    outsider = MembershipFactory(role=Role.OWNER).user
    before = _calls_and_cases()
    with pytest.raises(RoleRequired, match=f"Only members of {line.workspace.name} can run mock"):
        services.mock_call_end(call_flow=line.flow, user=outsider, turns=[SAYS["hours"]])
    assert _calls_and_cases() == before
    event = AuditEvent.objects.get(action="write.refused")
    assert (event.actor, event.workspace, event.details["service"]) == (
        outsider,
        line.workspace,
        "mock_call_end",
    )


def test_a_mock_call_sends_nothing_and_changes_no_generation(line, mailoutbox):
    before = _generation(line.phone)
    services.mock_call_end(call_flow=line.flow, user=line.owner, turns=[SAYS["hours"]])
    assert _generation(line.phone) == before and mailoutbox == []


# Scenarios: tests/calls/test_scenarios.py -----------------------------------------------------


def test_factory_builds_a_scenario_of_the_flows_first_sona_step(line):
    scenario = ScenarioFactory(call_flow=line.flow)
    assert scenario.step_key == line.sona.key and scenario.expect == {"job": None}
