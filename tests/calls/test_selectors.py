"""calls/selectors/mock.py: what a Sona step routes against, mock-call turns and test runs."""

import pytest
from django.core.exceptions import ValidationError

from callflows import services as cf
from callflows.models import StepKind
from callflows.snapshots import build_snapshot
from calls import scenarios
from calls.selectors import mock

from .conftest import SAYS, router_says, save_case

pytestmark = pytest.mark.django_db


def _case(line, said, job, **kwargs):
    return save_case(
        call_flow=line.flow, user=line.owner, step_key=line.sona.key, said=said, job=job, **kwargs
    )


# target() -----------------------------------------------------------------------------------


def test_the_draft_target_has_the_steps_jobs_in_order_and_its_knowledge(line):
    goal = mock.target(call_flow=line.flow)
    assert (goal.version, goal.version_number, goal.label) == ("draft", None, "draft")
    assert (goal.step_key, goal.step_name) == (line.sona.key, "Sona")
    assert list(goal.jobs) == [line.booking.pk, line.hours.pk, line.manager.pk]
    assert [c.name for c in goal.candidates] == ["Book a table", "Opening hours", "Complaint"]
    assert [(p[0], p[1]) for p in goal.pages] == [(line.page.pk, "Parking")]
    assert goal.sona_steps == ((line.sona.key, "Sona"),)


def test_the_live_target_is_the_published_version(published):
    line = published
    cf.step_detach_job(step=line.sona, job=line.hours, user=line.owner)
    live = mock.target(call_flow=line.flow, version="live")
    draft = mock.target(call_flow=line.flow)
    assert (live.version_number, live.label) == (1, "live version 1")
    assert line.hours.pk in live.jobs and line.hours.pk not in draft.jobs


def test_a_second_sona_step_is_chosen_by_key(line):
    second = cf.step_add(
        call_flow=line.flow, kind=StepKind.SONA, name="After hours", user=line.owner
    )
    cf.step_attach_job(step=second, job=line.hours, user=line.owner)
    goal = mock.target(call_flow=line.flow, step_key=second.key)
    assert (goal.step_name, list(goal.jobs)) == ("After hours", [line.hours.pk])
    assert goal.sona_steps == ((line.sona.key, "Sona"), (second.key, "After hours"))
    assert mock.target(call_flow=line.flow).step_key == line.sona.key  # the first


def test_saved_cases_are_examples_of_their_job(line):
    _case(line, "my steak was cold", line.manager)
    _case(line, "nothing for me", None)
    goal = mock.target(call_flow=line.flow)
    examples = {c.name: c.examples for c in goal.candidates}
    assert examples == {
        "Book a table": (),
        "Opening hours": (),
        "Complaint": ("my steak was cold",),
    }


def test_target_errors(line):
    with pytest.raises(ValidationError, match="This number has no live version yet: publish"):
        mock.target(call_flow=line.flow, version="live")
    with pytest.raises(ValidationError, match="The draft has no Sona step “x”."):
        mock.target(call_flow=line.flow, step_key="x")
    cf.callflow_publish(call_flow=line.flow, user=line.owner)
    line.flow.refresh_from_db()
    with pytest.raises(ValidationError, match="The live version has no Sona step “x”."):
        mock.target(call_flow=line.flow, version="live", step_key="x")
    cf.step_remove(step=line.sona, user=line.owner)
    with pytest.raises(ValidationError, match="This call flow has no Sona step to test."):
        mock.target(call_flow=line.flow)


def test_target_query_count(line, django_assert_max_num_queries):
    flow = type(line.flow).objects.select_related("phone_number").get(pk=line.flow.pk)
    # draft snapshot (2), jobs, pages, test cases, the jobs' stored vectors
    with django_assert_max_num_queries(6):
        mock.target(call_flow=flow)


# Mock turns ---------------------------------------------------------------------------------


def test_a_turn_shows_job_runner_up_walkthrough_and_knowledge(line):
    goal = mock.target(call_flow=line.flow)
    [turn] = mock.mock_turns(goal, ["I want to book a table, is there parking behind"])
    assert turn.job == line.booking and turn.decision.job.name == "Book a table"
    assert turn.decision.runner_up is not None
    assert turn.at_step == 1 and turn.current_step.text == "Ask for the date and time they want."
    assert [s.number for s in turn.walkthrough.steps] == [1, 2, 3]
    assert "How many people are coming?" in turn.walkthrough.questions
    assert turn.walkthrough.actions == ()
    # Both paragraphs of Parking match ("parking" is its title), best first; they are passages
    # of one page of knowledge.
    assert {p.title for p in turn.passages} == {"Parking"} and len(turn.passages) == 2
    assert turn.passages[0].text == "Free parking behind the restaurant."
    assert turn.passages[0].score >= turn.passages[1].score > 0
    assert turn.knowledge == ("Parking",)
    assert turn.pages == (("Parking", turn.passages),)


def test_a_vague_later_turn_continues_the_job_on_its_next_step(line):
    goal = mock.target(call_flow=line.flow)
    vague = ["yes, at eight", "we are four"]  # answers to Book a table's questions
    assert all(router_says(line.flow, said).no_job for said in vague)  # alone, no job
    first, second, third = mock.mock_turns(goal, [SAYS["booking"], *vague])
    assert [t.job for t in (first, second, third)] == [line.booking] * 3
    assert [t.decision.continued for t in (first, second, third)] == [False, True, True]
    assert [t.at_step for t in (first, second, third)] == [1, 2, 3]
    assert second.current_step.text.startswith('Ask: "How many people are coming?"')
    assert third.current_step.text == "Confirm the booking and end the call."
    assert mock.mock_turns(goal, [SAYS["booking"], "a", "b", "c", "d"])[-1].at_step == 5
    assert third.current_step.number == 3  # past the last step, Sona stays on it


def test_a_clear_change_of_intent_starts_the_new_job_at_step_one(line):
    goal = mock.target(call_flow=line.flow)
    first, second = mock.mock_turns(goal, [SAYS["booking"], SAYS["manager"]])
    assert (first.job, second.job) == (line.booking, line.manager)
    assert (second.at_step, second.decision.continued) == (1, False)
    [action] = second.walkthrough.actions
    assert (action.label, action.status) == (
        "Transfer call to Front desk (+15555550124)",
        "not sent",
    )


def test_no_job_has_no_walkthrough(line):
    goal = mock.target(call_flow=line.flow)
    [turn] = mock.mock_turns(goal, [SAYS["nothing"]])
    assert (turn.job, turn.walkthrough, turn.at_step, turn.current_step) == (None, None, 0, None)
    assert turn.decision.no_job


def test_given_replies_are_kept_when_the_llm_wrote_them(line, settings):
    settings.ROUTER_BACKEND = "llm"  # no LLM_BASE_URL: the router falls back, replies are kept
    goal = mock.target(call_flow=line.flow)
    [turn] = mock.mock_turns(goal, [SAYS["hours"]], replies=["We open at nine."])
    assert turn.reply == "We open at nine."


def test_given_replies_are_said_again_by_the_builtin_backend(line):
    """Offline, Sona's line is the job's own words again: a reply sent with the form is not
    trusted (it would end up in the stored transcript)."""
    goal = mock.target(call_flow=line.flow)
    [turn] = mock.mock_turns(goal, [SAYS["hours"]], replies=["We open at nine."])
    assert turn.reply == "(Tell the caller the opening hours.)"


# Test runs ----------------------------------------------------------------------------------


def test_run_side_by_side_without_live_version(line):
    _case(line, SAYS["booking"], line.booking)
    [row] = scenarios.run_side_by_side(call_flow=line.flow, step_key=line.sona.key)
    assert row.draft.passed and row.live is None and not row.differs


def test_run_side_by_side_shows_where_draft_and_live_route_differently(published):
    line = published
    booking = _case(line, SAYS["booking"], line.booking)
    hours = _case(line, SAYS["hours"], line.hours)
    cf.step_detach_job(step=line.sona, job=line.booking, user=line.owner)
    rows = scenarios.run_side_by_side(call_flow=line.flow, step_key=line.sona.key)
    assert [r.scenario for r in rows] == [booking, hours]
    first, second = rows
    assert (first.draft.passed, first.live.passed, first.differs) == (False, True, True)
    assert first.draft.problem == "Expects “Book a table”, which is not attached to Sona."
    assert first.live.handled_by == line.booking.name
    assert (second.draft.passed, second.live.passed, second.differs) == (True, True, False)


def test_run_scenarios_only_runs_the_targets_step(line):
    second = cf.step_add(call_flow=line.flow, kind=StepKind.SONA, name="Later", user=line.owner)
    mine = _case(line, SAYS["booking"], line.booking)
    save_case(call_flow=line.flow, user=line.owner, step_key=second.key, said="x y z", job=None)
    goal = mock.target(call_flow=line.flow)
    found = list(line.flow.scenarios.all())
    assert [r.scenario for r in scenarios.run_scenarios(goal, found)] == [mine]


def test_failing_scenarios_over_every_step(line):
    second = cf.step_add(call_flow=line.flow, kind=StepKind.SONA, name="Later", user=line.owner)
    _case(line, SAYS["booking"], line.booking)
    save_case(
        call_flow=line.flow,
        user=line.owner,
        step_key=second.key,
        said=SAYS["hours"],
        job=line.hours,
    )
    failures = scenarios.failing_scenarios(line.flow, build_snapshot(line.flow))
    assert [(step, f.scenario.name, f.problem) for step, f in failures] == [
        ("Later", "When are you open", "Expects “Opening hours”, which is not attached to Later.")
    ]
