"""Checks before publish (callflows/checks.py): what they find, and that errors block the
service, the preview page and the command while warnings do not.

No check of this module's own is an error yet (the action and knowledge checks fill the hooks);
the blocking tests give the `action_problems` hook an error to report."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from callflows import checks, selectors, services, snapshots
from callflows.checks import ERROR, WARNING, Problem, draft_problems
from callflows.models import CallFlowVersion, StepKind
from tests.conftest import attach
from tests.factories import JobFactory
from workspaces.models import AuditEvent

pytestmark = pytest.mark.django_db

FEE = "1. Tell the caller a $149 emergency fee applies after hours.\n2. Ask for the address."
BROKEN = "“Leave a message” sends SMS from +15555550123, which is not registered for SMS."


def jobs_with(workspace, texts, prefix="Job"):
    return [
        JobFactory(workspace=workspace, name=f"{prefix} {i}", instructions=text)
        for i, text in enumerate(texts, start=1)
    ]


def messages(problems, level=None):
    return [p.message for p in problems if level is None or p.level == level]


@pytest.fixture
def broken_action(monkeypatch):
    """An error from the actions hook, as the action checks will report one."""
    error = Problem(ERROR, BROKEN, step="Sona", job="Leave a message")
    monkeypatch.setattr(checks, "action_problems", lambda call_flow, snapshot, **kwargs: [error])
    return error


def versions():
    return CallFlowVersion.objects.count()


# A Sona step with no jobs -------------------------------------------------------------------


def test_an_empty_sona_step_is_a_warning(phone, sona):
    problems = draft_problems(phone.call_flow)
    assert [(p.level, p.step) for p in problems] == [(WARNING, "Sona")]
    assert problems[0].message.startswith("“Sona” has no jobs")


def test_a_sona_step_with_a_job_has_no_problem(workspace, owner, phone, sona):
    attach(sona, [JobFactory(workspace=workspace)], owner)
    services.step_add(call_flow=phone.call_flow, kind=StepKind.VOICEMAIL, name="VM", user=owner)
    assert draft_problems(phone.call_flow) == []


# Facts that belong in knowledge -------------------------------------------------------------


def test_a_price_in_three_jobs_is_a_warning_quoting_it(workspace, owner, phone, sona):
    attach(
        sona, jobs_with(workspace, [FEE, "Say: a $149 emergency fee, paid on site.", FEE]), owner
    )
    (problem,) = [p for p in draft_problems(phone.call_flow) if "knowledge" in p.message]
    assert problem.level == WARNING
    assert problem.message.startswith("Move '$149 emergency fee' into a knowledge page")
    assert "repeated in 3 jobs (“Job 1”, “Job 2”, “Job 3”)" in problem.message
    assert (problem.job, problem.job_id) == ("Job 1", sona.step_jobs.get(position=1).job_id)


def test_a_fact_in_two_jobs_is_fine(workspace, owner, phone, sona):
    attach(sona, jobs_with(workspace, [FEE, FEE, "1. Take a message."]), owner)
    assert not [p for p in draft_problems(phone.call_flow) if "knowledge" in p.message]


def test_jobs_count_across_steps_and_each_job_once(workspace, owner, phone, sona):
    one, two = jobs_with(workspace, [FEE, FEE])
    other = services.step_add(call_flow=phone.call_flow, kind=StepKind.SONA, name="B", user=owner)
    attach(sona, [one, two], owner)
    attach(other, [one], owner)  # the same job on a second step is still two jobs
    assert not [p for p in draft_problems(phone.call_flow) if "knowledge" in p.message]
    attach(other, jobs_with(workspace, [FEE], prefix="Third"), owner)
    assert "repeated in 3 jobs" in messages(draft_problems(phone.call_flow))[-1]


@pytest.mark.parametrize(
    ("text", "quote"),
    [
        ("We open at 8am on weekdays.", "8am on weekdays"),
        ("Call back after 5 p.m.", "back after 5 p.m."),  # nothing after: two words before
        ("Book at https://acme.example.com/book today.", "https://acme.example.com/book"),
        ("Send them to acme.com/pay.", "acme.com/pay"),
        ("Our shop is at 120 Main Street, Springfield.", "120 Main Street"),
    ],
)
def test_times_urls_and_addresses_are_facts_too(workspace, owner, phone, sona, text, quote):
    attach(sona, jobs_with(workspace, [text] * 3), owner)
    assert messages(draft_problems(phone.call_flow)) == [
        f"Move '{quote}' into a knowledge page: it is repeated in 3 jobs "
        "(“Job 1”, “Job 2”, “Job 3”). Edit it once there instead of in every job."
    ]


def test_steps_and_plain_numbers_are_not_knowledge(workspace, owner, phone, sona):
    text = '1. Ask: "How many rooms?"\n2. Offer 3 slots.\n3. [[Send SMS: Pay $149 here]]'
    attach(sona, jobs_with(workspace, [text] * 3), owner)
    # a price inside an action is the action's (the SMS itself is an error: not registered)
    assert [p for p in draft_problems(phone.call_flow) if p.level == WARNING] == []


def test_errors_come_first(workspace, owner, phone, sona, broken_action):
    services.step_add(call_flow=phone.call_flow, kind=StepKind.SONA, name="Empty", user=owner)
    problems = draft_problems(phone.call_flow)
    assert [p.level for p in problems] == [ERROR, WARNING, WARNING]
    assert problems[0] == broken_action


def test_the_hooks_find_nothing_yet(phone):
    snapshot = snapshots.build_snapshot(phone.call_flow)
    assert checks.action_problems(phone.call_flow, snapshot) == []
    assert checks.knowledge_problems(phone.call_flow, snapshot) == []


# Errors block the service; warnings do not --------------------------------------------------


def test_publish_refuses_errors_and_lists_them(owner, phone, broken_action):
    with pytest.raises(ValidationError) as refused:
        services.callflow_publish(call_flow=phone.call_flow, user=owner)
    assert refused.value.messages == [checks.PUBLISH_BLOCKED, BROKEN]
    assert versions() == 0
    phone.call_flow.refresh_from_db()
    assert phone.call_flow.live_version is None
    assert not AuditEvent.objects.filter(action="callflow.published").exists()


def test_publish_goes_on_with_warnings(workspace, owner, phone, sona):
    attach(sona, jobs_with(workspace, [FEE] * 3), owner)
    assert messages(draft_problems(phone.call_flow), ERROR) == []
    assert messages(draft_problems(phone.call_flow), WARNING)
    assert services.callflow_publish(call_flow=phone.call_flow, user=owner).number == 1


def test_rollback_runs_the_checks_on_the_version(
    workspace, owner, phone, sona, monkeypatch, broken_action
):
    monkeypatch.setattr(checks, "action_problems", lambda call_flow, snapshot, **kwargs: [])
    first = services.callflow_publish(call_flow=phone.call_flow, user=owner)
    attach(sona, [JobFactory(workspace=workspace)], owner)
    services.callflow_publish(call_flow=phone.call_flow, user=owner)
    # Job text is not frozen: a job's action broke since version 1 was published.
    flagged = []
    monkeypatch.setattr(
        checks,
        "action_problems",
        lambda call_flow, snapshot, **kwargs: flagged.append(snapshot) or [broken_action],
    )
    with pytest.raises(ValidationError) as refused:
        services.callflow_rollback(call_flow=phone.call_flow, version=first, user=owner)
    assert refused.value.messages == [checks.PUBLISH_BLOCKED, BROKEN]
    assert flagged == [first.snapshot]  # the version's snapshot was checked, not the draft
    assert versions() == 2
    preview = selectors.rollback_preview(call_flow=phone.call_flow, version=first)
    assert preview.refusal == f"{checks.PUBLISH_BLOCKED} {BROKEN}"


# The preview page ---------------------------------------------------------------------------


def publish_url(phone):
    return reverse("callflows:publish", args=[phone.pk])


def test_preview_lists_errors_first_and_hides_publish(owner_client, phone, broken_action):
    text = owner_client.get(publish_url(phone)).text
    assert "Problems found in the draft" in text
    assert "1 error blocks publishing: fix it first." in text
    error = text.index("<strong>Error:</strong> “Leave a message” sends SMS")
    warning = text.index("<strong>Warning:</strong> “Sona” has no jobs")
    assert error < warning
    assert ">Publish</button>" not in text
    assert "The Publish button comes back when the errors are fixed." in text


def test_posting_a_draft_with_errors_publishes_nothing(owner_client, phone, broken_action):
    response = owner_client.post(publish_url(phone), {"note": "go"}, follow=True)
    assert checks.PUBLISH_BLOCKED in response.text and "not registered for SMS" in response.text
    assert versions() == 0


def test_preview_with_warnings_only_can_publish(owner_client, workspace, owner, phone, sona):
    jobs = jobs_with(workspace, [FEE] * 3)
    attach(sona, jobs, owner)
    text = owner_client.get(publish_url(phone)).text
    assert "<strong>Warning:</strong> Move &#x27;$149 emergency fee&#x27; into a knowledge" in text
    assert f'<a href="{reverse("jobs:detail", args=[jobs[0].pk])}">Open “Job 1”</a>' in text
    assert "Warnings do not block publishing." in text
    assert "<strong>Error:</strong>" not in text and "publishing: fix" not in text
    assert ">Publish</button>" in text
    owner_client.post(publish_url(phone), {"note": "go"})
    assert versions() == 1


def test_preview_without_problems_shows_no_section(owner_client, workspace, owner, phone, sona):
    attach(sona, [JobFactory(workspace=workspace)], owner)
    text = owner_client.get(publish_url(phone)).text
    assert "Problems found in the draft" not in text and ">Publish</button>" in text


@pytest.mark.parametrize("count", [3, 10])
def test_preview_queries_stay_constant_with_problems(
    owner_client, workspace, owner, phone, sona, count, django_assert_max_num_queries
):
    attach(sona, jobs_with(workspace, [FEE + f" Call {i}:00 pm." for i in range(count)]), owner)
    for i in range(count):
        services.step_add(call_flow=phone.call_flow, kind=StepKind.SONA, name=f"S{i}", user=owner)
    # session, user, membership, number, draft snapshot (2), job names (1), checks' jobs (1),
    # header; the calls app: saved test cases (1), confusable jobs: jobs, test cases and the
    # jobs' stored vectors (3)
    with django_assert_max_num_queries(13):
        text = owner_client.get(publish_url(phone)).text
    warnings = re.findall(r"<strong>Warning:</strong>([^<]*)", text)
    # Empty steps + the fee; the jobs' identical caller intents are also confusable (calls app).
    assert len([w for w in warnings if "may reach" not in w]) == count + 1
    assert any("may reach" in w for w in warnings)


# The command --------------------------------------------------------------------------------


def test_command_exits_1_listing_the_errors(owner, phone, broken_action):
    with pytest.raises(CommandError) as refused:
        call_command("publish_callflow", number=phone.number, user=owner.email)
    assert str(refused.value) == f"{checks.PUBLISH_BLOCKED}\n{BROKEN}"
    assert versions() == 0


def test_command_prints_warnings_and_publishes(workspace, owner, phone, sona, capsys):
    attach(sona, jobs_with(workspace, [FEE] * 3), owner)
    call_command("publish_callflow", number=phone.number, user=owner.email)
    out, err = capsys.readouterr()
    assert "Published version 1" in out
    assert "Warning: Move '$149 emergency fee' into a knowledge page" in err
    assert versions() == 1


def test_an_empty_attached_knowledge_page_blocks_publishing(workspace, owner, phone, sona):
    from knowledge.models import KnowledgePage
    from knowledge.services import knowledge_page_create

    page = knowledge_page_create(workspace=workspace, user=owner, title="Prices", body="$10")
    services.step_attach_knowledge(step=sona, page=page, user=owner)
    # The services refuse a blank body; a script writing to the database does not.
    KnowledgePage.objects.filter(pk=page.pk).update(body="")
    problems = draft_problems(phone.call_flow)
    assert [(p.level, p.message) for p in problems if p.is_error] == [
        (ERROR, "The knowledge page “Prices” on “Sona” is empty: write its text or detach it.")
    ]
    with pytest.raises(ValidationError, match="is empty"):
        services.callflow_publish(call_flow=phone.call_flow, user=owner)
    assert not phone.call_flow.versions.exists()
