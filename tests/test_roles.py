"""Roles are held by the services: every write service and every write command refuses a member
(and a non-member, and staff outside the admin) and changes nothing. The one write a member may
do is ending a mock call (MEMBER_MAY); a non-member is refused that too."""

import importlib
import inspect
import json
import pkgutil
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command, get_commands, load_command_class

from callflows import services as cf
from callflows.models import StepKind
from calls import services as cs
from core.management.base import ServiceCommand
from jobs import services as js
from knowledge import services as ks
from knowledge.sources import Source
from outcomes import services as outs
from outcomes.models import AlertRule
from tests.factories import MembershipFactory, UserFactory
from webhooks import services as whs
from webhooks.models import WebhookDelivery
from workspaces import services as ws
from workspaces.models import AuditEvent, Role
from workspaces.permissions import RoleRequired, staff_support

pytestmark = pytest.mark.django_db

PROJECT_APPS = ("workspaces", "jobs", "knowledge", "webhooks", "callflows", "calls", "outcomes")
TEXTS = {"name": "New", "instructions": "1. Greet the caller.\n2. End the call."}
PROSE = "greet the caller. ask for their name and phone number. then say goodbye"  # to optimize


def fingerprint() -> dict:
    """Every row of every project table (history tables included) but the audit log, which
    records refused attempts too (tests/test_audit.py checks it)."""
    return {
        model._meta.label: list(model.objects.order_by("pk").values())
        for app in PROJECT_APPS
        for model in apps.get_app_config(app).get_models()
        if model is not AuditEvent
    }


@pytest.fixture
def world(workspace, owner, admin_user, member):
    """A workspace with something for every service to act on, built by its owner."""
    w = SimpleNamespace(workspace=workspace, owner=owner, member=member)
    w.phone = cf.phone_number_create(
        workspace=workspace, number="+15555550111", display_name="Main", user=owner
    )
    w.flow = w.phone.call_flow
    w.gone_phone = cf.phone_number_create(
        workspace=workspace, number="+15555550222", display_name="Old line", user=owner
    )
    cf.phone_number_delete(phone_number=w.gone_phone, user=owner)
    w.sona = w.flow.steps.get(kind=StepKind.SONA)
    w.job = js.job_create(
        workspace=workspace, user=owner, data={"name": "Booking", "instructions": PROSE}
    )
    w.job = js.job_update(job=w.job, user=owner, data={"description": "Second version."})
    w.spare = js.job_create(workspace=workspace, user=owner, data={**TEXTS, "name": "Spare"})
    w.third = js.job_create(workspace=workspace, user=owner, data={**TEXTS, "name": "Third"})
    w.gone = js.job_create(workspace=workspace, user=owner, data={**TEXTS, "name": "Gone"})
    js.job_delete(job=w.gone, user=owner)
    cf.step_attach_job(step=w.sona, job=w.job, user=owner)
    cf.step_attach_job(step=w.sona, job=w.spare, user=owner)
    w.v1 = cf.callflow_publish(call_flow=w.flow, user=owner)
    w.greeting = cf.step_add(call_flow=w.flow, kind=StepKind.GREETING, name="Hi", user=owner)
    cf.callflow_publish(call_flow=w.flow, user=owner)
    cf.step_add(call_flow=w.flow, kind=StepKind.VOICEMAIL, name="Later", user=owner)  # unpublished
    w.page = ks.knowledge_page_create(
        workspace=workspace, user=owner, title="Prices", body="Emergency fee: $149."
    )
    w.page = ks.knowledge_page_update(page=w.page, user=owner, title="Prices", body="Fee: $159.")
    w.spare_page = ks.knowledge_page_create(
        workspace=workspace, user=owner, title="Hours", body="9 to 5."
    )
    w.gone_page = ks.knowledge_page_create(
        workspace=workspace, user=owner, title="Old", body="Old facts."
    )
    ks.knowledge_page_delete(page=w.gone_page, user=owner)
    w.third_page = ks.knowledge_page_create(
        workspace=workspace, user=owner, title="Parking", body="Free parking behind the shop."
    )
    cf.step_attach_knowledge(step=w.sona, page=w.page, user=owner)
    cf.step_attach_knowledge(step=w.sona, page=w.spare_page, user=owner)
    w.template = js.template_create_from_job(job=w.job, user=owner, name="Booking template")
    w.token = ws.api_token_create(workspace=workspace, name="Runtime", user=owner).token
    w.admin_membership = admin_user.memberships.get()
    w.invitee = UserFactory()
    w.invitation = ws.invitation_send(
        workspace=workspace, email="pending@example.test", role=Role.ADMIN, user=owner
    )
    w.scenario = cs.scenario_create(
        call_flow=w.flow,
        user=owner,
        step_key=w.sona.key,
        name="I need a booking",
        turns=["I need a booking"],
        expect={"job": w.job.name},
    )
    w.endpoint = whs.webhook_add(
        workspace=workspace,
        user=owner,
        url="https://hooks.example.com/in",
        events=["call.reported"],
    ).endpoint
    w.off_endpoint = whs.webhook_add(
        workspace=workspace, user=owner, url="https://off.example.com/in", events=["alert.raised"]
    ).endpoint
    whs.webhook_disable(endpoint=w.off_endpoint, user=owner)
    w.delivery = WebhookDelivery.objects.create(  # a try of the last publish's message
        endpoint=w.endpoint,
        outbox=w.endpoint.outbox.create(
            event="callflow.published", message_id="msg_1", payload="{}"
        ),
        message_id="msg_1",
        event="callflow.published",
        attempt=1,
        status_code=500,
        at=w.endpoint.created_at,
    )
    w.alert = outs.alert_raise(
        rule=AlertRule.objects.get(workspace=workspace, kind="no_job_matched"),
        subject="step:1:s1",
        window="step:1:s1:2026-01-01",
        message="No job matched 11 of the last 50 calls",
        details={},
        now=w.v1.published_at,
    )
    return w


def _old_version(w):
    return w.job.history.order_by("history_id").first()


# The alert rules with one change: no job matched above 20% (default 15%).
ALERT_RULES = {
    "no_job_matched-enabled": True,
    "no_job_matched-percent": 20,
    "no_job_matched-calls": 50,
    "failed_actions-enabled": True,
    "failed_actions-per_day": 3,
    "worse_change-enabled": True,
}

# Every write service, called as `user` would call it (valid for an owner).
SERVICES = {
    "invitation_send": lambda w, u: ws.invitation_send(
        workspace=w.workspace, email=w.invitee.email, role=Role.MEMBER, user=u
    ),
    "invitation_resend": lambda w, u: ws.invitation_resend(invitation=w.invitation, user=u),
    "invitation_revoke": lambda w, u: ws.invitation_revoke(invitation=w.invitation, user=u),
    "membership_change_role": lambda w, u: ws.membership_change_role(
        membership=w.admin_membership, role=Role.MEMBER, user=u
    ),
    "membership_remove": lambda w, u: ws.membership_remove(membership=w.admin_membership, user=u),
    "api_token_create": lambda w, u: ws.api_token_create(workspace=w.workspace, name="x", user=u),
    "api_token_revoke": lambda w, u: ws.api_token_revoke(token=w.token, user=u),
    "workspace_set_retention": lambda w, u: ws.workspace_set_retention(
        workspace=w.workspace, call_days=90, transcript_days=30, user=u
    ),
    "workspace_set_time_zone": lambda w, u: ws.workspace_set_time_zone(
        workspace=w.workspace, time_zone="Europe/Berlin", user=u
    ),
    "job_create": lambda w, u: js.job_create(workspace=w.workspace, data=TEXTS, user=u),
    "job_update": lambda w, u: js.job_update(job=w.job, data={"description": "x"}, user=u),
    "job_delete": lambda w, u: js.job_delete(job=w.third, user=u),
    "job_restore_deleted": lambda w, u: js.job_restore_deleted(job=w.gone, user=u),
    "job_restore_version": lambda w, u: js.job_restore_version(
        job=w.job, version=_old_version(w), user=u
    ),
    "job_resolve_conflict": lambda w, u: js.job_resolve_conflict(
        job=w.job, choice="copy", attempted=TEXTS, current_revision=w.job.revision, user=u
    ),
    "job_optimize": lambda w, u: js.job_optimize(job=w.job, unsaved={"description": "y"}, user=u),
    "job_undo_optimize": lambda w, u: js.job_undo_optimize(job=w.job, user=u),
    "template_create_from_job": lambda w, u: js.template_create_from_job(job=w.job, user=u),
    "template_delete": lambda w, u: js.template_delete(template=w.template, user=u),
    "job_import": lambda w, u: js.job_import(workspace=w.workspace, records=[TEXTS], user=u),
    "job_import_start": lambda w, u: js.job_import_start(
        workspace=w.workspace, name="jobs.json", data=b"[]", user=u
    ),
    "knowledge_page_create": lambda w, u: ks.knowledge_page_create(
        workspace=w.workspace, title="New", body="Facts.", user=u
    ),
    "knowledge_page_update": lambda w, u: ks.knowledge_page_update(
        page=w.page, title="Prices", body="Fee: $169.", user=u
    ),
    "knowledge_page_delete": lambda w, u: ks.knowledge_page_delete(page=w.page, user=u),
    "knowledge_page_restore": lambda w, u: ks.knowledge_page_restore(page=w.gone_page, user=u),
    "knowledge_page_restore_version": lambda w, u: ks.knowledge_page_restore_version(
        page=w.page, version=w.page.history.order_by("history_id").first(), user=u
    ),
    "knowledge_import": lambda w, u: ks.knowledge_import(
        workspace=w.workspace, sources=[Source("file", "faq.md", "FAQ", "Q and A.")], user=u
    ),
    "knowledge_import_start": lambda w, u: ks.knowledge_import_start(
        workspace=w.workspace, url="https://example.com/", user=u
    ),
    "phone_number_create": lambda w, u: cf.phone_number_create(
        workspace=w.workspace, number="+15555550999", display_name="Second", user=u
    ),
    "phone_number_rename": lambda w, u: cf.phone_number_rename(
        phone_number=w.phone, display_name="Renamed", user=u
    ),
    "phone_number_delete": lambda w, u: cf.phone_number_delete(phone_number=w.phone, user=u),
    "phone_number_restore": lambda w, u: cf.phone_number_restore(phone_number=w.gone_phone, user=u),
    "phone_number_set_sms_registered": lambda w, u: cf.phone_number_set_sms_registered(
        phone_number=w.phone, registered=True, user=u
    ),
    "step_add": lambda w, u: cf.step_add(
        call_flow=w.flow, kind=StepKind.VOICEMAIL, name="Voicemail", user=u
    ),
    "step_update": lambda w, u: cf.step_update(
        step=w.greeting, name="Hello", settings=w.greeting.settings, user=u
    ),
    "step_move": lambda w, u: cf.step_move(step=w.greeting, offset=-1, user=u),
    "step_remove": lambda w, u: cf.step_remove(step=w.greeting, user=u),
    "step_attach_job": lambda w, u: cf.step_attach_job(step=w.sona, job=w.third, user=u),
    "step_create_job": lambda w, u: cf.step_create_job(step=w.sona, data=TEXTS, user=u),
    "step_detach_job": lambda w, u: cf.step_detach_job(step=w.sona, job=w.job, user=u),
    "step_move_job": lambda w, u: cf.step_move_job(step=w.sona, job=w.job, offset=1, user=u),
    "step_attach_knowledge": lambda w, u: cf.step_attach_knowledge(
        step=w.sona, page=w.third_page, user=u
    ),
    "step_detach_knowledge": lambda w, u: cf.step_detach_knowledge(
        step=w.sona, page=w.page, user=u
    ),
    "step_move_knowledge": lambda w, u: cf.step_move_knowledge(
        step=w.sona, page=w.page, offset=1, user=u
    ),
    "callflow_publish": lambda w, u: cf.callflow_publish(call_flow=w.flow, user=u),
    "callflow_rollback": lambda w, u: cf.callflow_rollback(call_flow=w.flow, version=w.v1, user=u),
    "mock_call_end": lambda w, u: cs.mock_call_end(
        call_flow=w.flow, user=u, turns=["I need a booking", "tomorrow"]
    ),
    "scenario_create": lambda w, u: cs.scenario_create(
        call_flow=w.flow,
        user=u,
        step_key=w.sona.key,
        name="Can I book",
        turns=["Can I book", "tomorrow"],
        expect={"job": w.job.name, "never": ["transfer_call"]},
    ),
    "scenario_update": lambda w, u: cs.scenario_update(
        scenario=w.scenario,
        user=u,
        name="Booking",
        turns=["I need a booking"],
        expect={"job": w.job.name},
    ),
    "scenario_delete": lambda w, u: cs.scenario_delete(scenario=w.scenario, user=u),
    "scenarios_import": lambda w, u: cs.scenarios_import(
        call_flow=w.flow,
        user=u,
        text="scenarios:\n  - name: Wrong number\n    turns: [sorry, wrong number]\n"
        "    expect: {job: null}\n",
    ),
    "webhook_add": lambda w, u: whs.webhook_add(
        workspace=w.workspace, user=u, url="https://crm.example.com/in", events=["alert.raised"]
    ),
    "webhook_update": lambda w, u: whs.webhook_update(
        endpoint=w.endpoint, user=u, events=["alert.raised"], description="Pager"
    ),
    "webhook_rotate_secret": lambda w, u: whs.webhook_rotate_secret(endpoint=w.endpoint, user=u),
    "webhook_disable": lambda w, u: whs.webhook_disable(endpoint=w.endpoint, user=u),
    "webhook_enable": lambda w, u: whs.webhook_enable(endpoint=w.off_endpoint, user=u),
    "webhook_delete": lambda w, u: whs.webhook_delete(endpoint=w.endpoint, user=u),
    "webhook_resend": lambda w, u: whs.webhook_resend(delivery=w.delivery, user=u),
    "alert_rules_update": lambda w, u: outs.alert_rules_update(
        workspace=w.workspace, user=u, values=ALERT_RULES
    ),
    "alert_acknowledge": lambda w, u: outs.alert_acknowledge(alert=w.alert, user=u),
    "alert_resolve": lambda w, u: outs.alert_resolve(alert=w.alert, user=u),
    "alert_emails_set": lambda w, u: outs.alert_emails_set(
        workspace=w.workspace, user=u, enabled=True
    ),
}
# Writes a member may do (READ role): running a mock call stores it as a call.
MEMBER_MAY = {"mock_call_end"}
OWNER_ONLY = {
    "invitation_send",
    "invitation_resend",
    "invitation_revoke",
    "membership_change_role",
    "membership_remove",
    "api_token_create",
    "api_token_revoke",
    "workspace_set_retention",
    "workspace_set_time_zone",
    "webhook_add",
    "webhook_update",
    "webhook_rotate_secret",
    "webhook_disable",
    "webhook_enable",
    "webhook_delete",
    "webhook_resend",
    "alert_rules_update",
}

# Services whose actor is not decided by a role in the workspace, each tested where it says.
NOT_ROLE_BASED = {
    "membership_add": "support staff only: test_membership_add_is_for_support_staff_only",
    "invitation_accept": "the invitee: tests/workspaces/test_invitations.py",
    "invitation_decline": "the invitee: tests/workspaces/test_invitations.py",
    "invitation_sign_up": "a person with no account: tests/workspaces/test_invitations.py",
    "user_update_profile": "their own name: tests/workspaces/test_invitations.py",
    "user_remember_workspace": "any member: tests/workspaces/test_invitations.py",
    "signin_source_unlock": "support staff only: tests/workspaces/test_signin_sources.py",
    "signup": "a person with no account: tests/workspaces/test_signup.py",
}


def service_modules(*apps_services):
    """Each app's services module, or every module of a services package (callflows.services):
    a service defined in any of them is found, whether the package re-exports it or not."""
    for module in apps_services:
        yield module
        if hasattr(module, "__path__"):  # a package
            for info in pkgutil.iter_modules(module.__path__, f"{module.__name__}."):
                yield importlib.import_module(info.name)


def test_every_write_service_is_covered():
    """A new service taking the acting `user` must be added to SERVICES (and so checked)."""
    found = {
        name: fn
        for module in service_modules(ws, js, ks, whs, cf, cs, outs)
        for name, fn in inspect.getmembers(module, inspect.isfunction)
        if fn.__module__ == module.__name__
        and not name.startswith("_")
        and "user" in inspect.signature(fn).parameters
    }
    assert set(found) == set(SERVICES) | set(NOT_ROLE_BASED)
    for name, fn in found.items():  # callers reach a package's services through the package
        package = importlib.import_module(fn.__module__.rpartition(".services")[0] + ".services")
        assert getattr(package, name, None) is fn, f"{package.__name__} must export {name}"
    assert not set(SERVICES) & set(NOT_ROLE_BASED)
    for name, fn in found.items():
        param = inspect.signature(fn).parameters["user"]
        assert param.kind is inspect.Parameter.KEYWORD_ONLY, name
        assert param.default is inspect.Parameter.empty, f"{name}: `user` must be required"


def _actor(w, who):
    if who == "outsider":  # an owner, but of another workspace
        return MembershipFactory(role=Role.OWNER).user
    return UserFactory(is_staff=True, is_superuser=True)  # staff outside the admin


@pytest.mark.parametrize("service", sorted(set(SERVICES) - MEMBER_MAY))
def test_member_is_refused_and_nothing_changes(world, service):
    before = fingerprint()
    with pytest.raises(RoleRequired) as exc:
        SERVICES[service](world, world.member)
    assert f"of {world.workspace.name} can" in str(exc.value)
    assert fingerprint() == before


@pytest.mark.parametrize("service", sorted(MEMBER_MAY))
def test_member_may_run_read_level_writes(world, service):
    before = fingerprint()
    SERVICES[service](world, world.member)
    assert fingerprint() != before


@pytest.mark.parametrize("who", ["outsider", "staff"])
@pytest.mark.parametrize(
    "service",
    [
        "job_update",
        "callflow_publish",
        "api_token_create",
        "mock_call_end",
        "scenario_create",
        "webhook_add",
    ],
)
def test_non_member_and_staff_outside_the_admin_are_refused(world, service, who):
    actor = _actor(world, who)
    before = fingerprint()
    with pytest.raises(RoleRequired):
        SERVICES[service](world, actor)
    assert fingerprint() == before


@pytest.mark.parametrize("service", sorted(OWNER_ONLY))
def test_admin_may_not_manage_members_or_tokens(world, admin_user, service):
    before = fingerprint()
    with pytest.raises(RoleRequired, match=f"Only owners of {world.workspace.name} can manage"):
        SERVICES[service](world, admin_user)
    assert fingerprint() == before


@pytest.mark.parametrize("service", sorted(set(SERVICES) - OWNER_ONLY - {"job_undo_optimize"}))
def test_admin_may_edit_and_publish(world, admin_user, service):
    before = fingerprint()
    SERVICES[service](world, admin_user)
    assert fingerprint() != before


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_owner_may_do_everything(world, service):
    if service == "job_undo_optimize":  # needs an optimize to undo first
        js.job_optimize(job=world.job, user=world.owner)
    before = fingerprint()
    SERVICES[service](world, world.owner)
    assert fingerprint() != before


def test_membership_add_is_for_support_staff_only(world, admin_user, staff):
    """Nobody joins without accepting an invitation, except when staff add them in the admin."""
    add = lambda u: ws.membership_add(  # noqa: E731
        workspace=world.workspace, email=world.invitee.email, role=Role.MEMBER, user=u
    )
    for actor in (world.member, admin_user, world.owner, staff):
        before = fingerprint()
        with pytest.raises(RoleRequired):
            add(actor)
        assert fingerprint() == before
    with staff_support(staff):
        add(staff)
    assert world.invitee.memberships.get().workspace == world.workspace


# Commands ----------------------------------------------------------------------------------

# Commands that write nothing, or set up without a workspace role to check.
READ_OR_SETUP_COMMANDS = {
    "export_jobs",
    "export_knowledge",
    "optimize_instructions",
    "demo",
    "create_workspace",
    "mock_call",
    "test_callflow",
    "run_scenarios",
    "export_scenarios",
    "prune_calls",  # a system job: it applies each owner's own retention (tests/calls/test_retention.py)
    "embed_jobs",  # a system job (deploy): derived data only, no configuration (tests/calls/test_vectors.py)
    "rebuild_rollups",  # a system job: derived counts only (tests/calls/test_rollups.py)
    "check_alerts",  # a system job: raises and resolves alerts (tests/outcomes/test_alerts.py)
    "index_call_summaries",  # a system job: derived data only (tests/calls/test_summary_search.py)
}


@pytest.fixture
def import_file(tmp_path):
    path = tmp_path / "jobs.json"
    path.write_text(json.dumps([TEXTS]), encoding="utf-8")
    return str(path)


def _write_commands(w, email, import_file):
    """Each write command with arguments an owner could run successfully."""
    scenarios_file = Path(import_file).with_name("scenarios.yaml")
    scenarios_file.write_text(
        "scenarios:\n  - name: Wrong number\n    turns: [sorry, wrong number]\n"
        "    expect: {job: null}\n",
        encoding="utf-8",
    )
    return {
        "import_scenarios": [str(scenarios_file), "--number", w.phone.number, "--user", email],
        "publish_callflow": ["--number", w.phone.number, "--user", email],
        "rollback_callflow": ["--number", w.phone.number, "--version", "1", "--user", email],
        "invite_member": [
            *("--workspace", w.workspace.slug, "--email", "cli@example.test"),
            *("--role", "member", "--user", email),
        ],
        "create_api_token": ["--workspace", w.workspace.slug, "--name", "CLI", "--user", email],
        "revoke_api_token": [
            *("--workspace", w.workspace.slug, "--prefix", w.token.prefix, "--user", email)
        ],
        "import_jobs": [import_file, "--workspace", w.workspace.slug, "--user", email],
        "optimize_job": ["--workspace", w.workspace.slug, "--job", "Booking", "--user", email],
        "import_knowledge": [import_file, "--workspace", w.workspace.slug, "--user", email],
        "add_webhook": [
            *("--workspace", w.workspace.slug, "--user", email),
            *("--url", "https://cli.example.com/in", "--events", "call.reported"),
        ],
    }


def _project_commands() -> set[str]:
    return {name for name, app in get_commands().items() if app in PROJECT_APPS}


def test_every_project_command_is_a_service_command():
    for name in _project_commands():
        app = get_commands()[name]
        assert isinstance(load_command_class(app, name), ServiceCommand), name


def test_every_write_command_is_walked(world, import_file):
    """A new command must join the walk below or be listed as read-only/setup."""
    walked = set(_write_commands(world, "x", import_file))
    assert _project_commands() == walked | READ_OR_SETUP_COMMANDS
    assert not walked & READ_OR_SETUP_COMMANDS


def test_every_write_command_refuses_a_member_and_changes_nothing(world, import_file):
    for name, argv in _write_commands(world, world.member.email, import_file).items():
        before = fingerprint()
        with pytest.raises(CommandError, match=f"of {world.workspace.name} can"):
            call_command(name, *argv)
        assert fingerprint() == before, name


def test_every_write_command_works_for_an_owner(world, import_file, capsys):
    # The same arguments, so the refusals above are about the role and nothing else.
    for name, argv in _write_commands(world, world.owner.email, import_file).items():
        before = fingerprint()
        call_command(name, *argv)
        assert fingerprint() != before, name


def test_a_refused_command_exits_with_status_1(world):
    # manage.py exits with the CommandError's returncode (run_from_argv itself closes the
    # test's database connection, so it is not called here).
    with pytest.raises(CommandError) as exc:
        call_command(
            "publish_callflow", "--number", world.phone.number, "--user", world.member.email
        )
    assert exc.value.returncode == 1
    assert str(exc.value) == (
        f"Only owners and admins of {world.workspace.name} can publish call flows."
    )


@pytest.mark.parametrize(
    ("option", "value"), [("--note", "bad\x00note"), ("--user", "owner\udc80@example.test")]
)
def test_unstorable_argument_is_a_clear_command_error(world, option, value):
    argv = ["--number", world.phone.number, "--user", world.owner.email, option, value]
    before = fingerprint()
    with pytest.raises(CommandError, match=f"The {option} value contains a character that cannot"):
        call_command("publish_callflow", *argv)
    assert fingerprint() == before
