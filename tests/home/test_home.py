"""The home page (outcomes.views.home): the getting-started checklist ticking itself from the
workspace's data, then how Sona is doing (calls this week from the rollups, the last change's
verdict, open alerts, scenarios failing on the draft), in a fixed number of queries."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from callflows import services as callflow_services
from calls import rollups
from calls.models import Outcome, Source
from jobs.models import JobTemplate
from jobs.services import job_create
from outcomes.models import AlertRule, RuleKind
from outcomes.services import alert_raise
from tests.conftest import attach, sona_of
from tests.factories import (
    CallFactory,
    MembershipFactory,
    PhoneNumberFactory,
    ScenarioFactory,
    UserFactory,
    WorkspaceFactory,
)

pytestmark = pytest.mark.django_db

HOME = reverse("home")


def _items(text: str) -> dict[str, bool]:
    """{item key: done} read from the checklist's markup."""
    out = {}
    for key in ("job", "number", "attach", "mock", "scenario", "publish"):
        at = text.find(f'data-item="{key}"')
        if at == -1:
            continue
        start = text.rfind("<li", 0, at)
        out[key] = "done" in text[start:at]
    return out


def _job(workspace, owner, name="Take a message"):
    template = JobTemplate.objects.filter(workspace__isnull=True).first()
    data = {
        "name": name,
        "description": "Take a message.",
        "trigger": f"Caller wants to {name.lower()}",
        "instructions": "1. Ask for their name.",
    }
    return job_create(workspace=workspace, user=owner, data=data, template=template)


def test_anonymous_goes_to_login(client):
    response = client.get(HOME)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_a_user_without_a_workspace_sees_the_explanation(client):
    client.force_login(UserFactory())
    response = client.get(HOME)
    assert response.status_code == 403
    assert "workspaces/no_workspace.html" in [t.name for t in response.templates]


def test_the_checklist_ticks_itself_as_data_appears(owner_client, workspace, owner):
    text = owner_client.get(HOME).text
    assert _items(text) == dict.fromkeys(
        ("job", "number", "attach", "mock", "scenario", "publish"), False
    )
    assert "Getting started: 0 of 6 done" in text
    # The page's one primary action is the next step.
    assert f'class="button primary" href="{reverse("jobs:new")}">Create a job' in text

    job = _job(workspace, owner)
    assert _items(owner_client.get(HOME).text)["job"] is True

    PhoneNumberFactory.create_batch(3)  # other workspaces' steps: no id here equals another
    phone = callflow_services.phone_number_create(
        workspace=workspace, number="+15555550123", display_name="Main line", user=owner
    )
    sona = sona_of(phone)
    text = owner_client.get(HOME).text
    assert _items(text)["number"] is True and _items(text)["attach"] is False
    # The links lead to where each step is done, on the first number's Sona step.
    assert f'href="{reverse("callflows:step_jobs", args=[phone.pk, sona.pk])}"' in text
    assert f'href="{reverse("calls:test_sona", args=[phone.pk, sona.pk])}"' in text
    assert f'href="{reverse("calls:tests", args=[phone.pk, sona.pk])}"' in text
    assert f'href="{reverse("callflows:publish", args=[phone.pk])}"' in text

    attach(sona, [job], owner)
    assert _items(owner_client.get(HOME).text)["attach"] is True

    CallFactory(phone_number=phone, source=Source.MOCK)
    assert _items(owner_client.get(HOME).text)["mock"] is True

    ScenarioFactory(call_flow=phone.call_flow, expect={"job": job.name})
    text = owner_client.get(HOME).text
    assert _items(text)["scenario"] is True and "Getting started: 5 of 6 done" in text

    callflow_services.callflow_publish(call_flow=phone.call_flow, user=owner)
    text = owner_client.get(HOME).text
    assert "Getting started" not in text and _items(text) == {}  # gone once all are done
    assert "Calls this week" in text


def test_another_workspaces_data_ticks_nothing(owner_client, workspace, other_workspace):
    CallFactory(phone_number=PhoneNumberFactory(workspace=other_workspace), source=Source.MOCK)
    items = _items(owner_client.get(HOME).text)
    assert not any(items.values())


def test_a_deleted_number_does_not_count(owner_client, workspace, owner):
    phone = callflow_services.phone_number_create(
        workspace=workspace, number="+15555550123", display_name="Main line", user=owner
    )
    callflow_services.phone_number_delete(phone_number=phone, user=owner)
    assert _items(owner_client.get(HOME).text)["number"] is False


def test_figures_come_from_the_rollups_real_calls_of_the_week(
    owner_client, workspace, owner, phone
):
    now = timezone.now()
    for _ in range(3):
        CallFactory(phone_number=phone, outcome=Outcome.RESOLVED, started_at=now)
    CallFactory(phone_number=phone, outcome=Outcome.CALLER_HUNG_UP, started_at=now)
    CallFactory(phone_number=phone, source=Source.MOCK, started_at=now)  # not counted
    CallFactory(phone_number=phone, started_at=now - timedelta(days=20))  # not this week
    rollups.rebuild(workspace)
    text = owner_client.get(HOME).text
    assert '<dd class="figure-value">4</dd>' in text
    assert "Real calls in the last 7 days" in text
    assert '<dd class="figure-value">75%</dd>' in text and "Resolved (3)" in text
    assert '<dd class="figure-value">25%</dd>' in text and "Caller hung up (1)" in text


def test_the_last_change_shows_its_verdict(owner_client, workspace, owner, phone):
    text = owner_client.get(HOME).text
    assert "Nothing to compare yet" in text
    callflow_services.callflow_publish(call_flow=phone.call_flow, user=owner)
    job = _job(workspace, owner)
    attach(sona_of(phone), [job], owner)
    callflow_services.callflow_publish(call_flow=phone.call_flow, user=owner, note="again")
    text = owner_client.get(HOME).text
    assert "Resolved since version 2: too few calls yet" in text
    assert f'href="{reverse("callflows:editor", args=[phone.pk])}">Main line</a>' in text
    # A job edited after the publish is the last change.
    from jobs.services import job_update

    job_update(job=job, user=owner, data={"instructions": "1. Ask for their name, kindly."})
    text = owner_client.get(HOME).text
    assert f'href="{reverse("jobs:detail", args=[job.pk])}">Take a message</a>' in text


def test_open_alerts_and_failing_scenarios_are_shown(owner_client, workspace, phone):
    rule = AlertRule.objects.get(workspace=workspace, kind=RuleKind.NO_JOB_MATCHED)
    alert_raise(
        rule=rule,
        subject="step:1:s",
        window="step:1:s:day",
        message="No job matched 11 of the last 50 calls.",
        details={},
        now=timezone.now(),
    )
    failing = ScenarioFactory(
        call_flow=phone.call_flow,
        name="Wrong number",
        last_run={"draft": {"passed": False, "problem": "Expected no job, got Billing."}},
        last_run_at=timezone.now(),
    )
    ScenarioFactory(call_flow=phone.call_flow, last_run={"draft": {"passed": True}})
    text = owner_client.get(HOME).text
    assert "No job matched 11 of the last 50 calls." in text  # the banner moved here
    assert ">1 open alert</h2>" in text
    assert "1 scenario failed at the last run." in text
    url = reverse("calls:tests", args=[phone.pk, sona_of(phone).pk])
    assert f'href="{url}">{failing.name}</a>' in text
    assert "Expected no job, got Billing." in text
    # The job library no longer shows the banner.
    assert "No job matched 11" not in owner_client.get(reverse("jobs:list")).text


def test_a_member_sees_the_home_page(member_client):
    assert member_client.get(HOME).status_code == 200


def _fill(workspace, owner, n: int):
    """n numbers, each with a job attached, calls (real and mock), a failing scenario and two
    published versions."""
    for i in range(n):
        phone = callflow_services.phone_number_create(
            workspace=workspace, number=f"+1555555{i:04d}", display_name=f"Line {i}", user=owner
        )
        callflow_services.callflow_publish(call_flow=phone.call_flow, user=owner)
        attach(sona_of(phone), [_job(workspace, owner, f"Job number {i}")], owner)
        callflow_services.callflow_publish(call_flow=phone.call_flow, user=owner)
        for j in range(n):
            CallFactory(phone_number=phone, outcome=Outcome.RESOLVED if j % 2 else Outcome.FAILED)
        CallFactory(phone_number=phone, source=Source.MOCK)
        ScenarioFactory(call_flow=phone.call_flow, last_run={"draft": {"passed": False}})
    rollups.rebuild(workspace)


@pytest.mark.parametrize("n", [1, 6])
def test_the_page_costs_the_same_queries_at_any_size(client, django_assert_num_queries, n):
    workspace = WorkspaceFactory()
    owner = MembershipFactory(workspace=workspace, role="owner").user
    _fill(workspace, owner, n)
    client.force_login(owner)
    client.get(HOME)  # warm: session, caches
    # session + user + membership (middleware), checklist (1), week (1), last change (2 + 2),
    # failing count + list (2), newest call cursor (1), open alerts banner (1 when open)
    with django_assert_num_queries(QUERIES):
        assert client.get(HOME).status_code == 200


QUERIES = 13
