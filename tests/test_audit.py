"""The audit log is written by the services, and only by them: each listed action writes
exactly one event in its own transaction, and a refused attempt writes one `write.refused`."""

import ast
from pathlib import Path

import pytest
from django.db import transaction
from django.urls import reverse

from callflows import services as cf
from jobs import services as js
from tests import test_roles as roles
from tests.factories import WorkspaceFactory, owner_of
from workspaces.models import AuditEvent
from workspaces.permissions import RoleRequired

pytestmark = pytest.mark.django_db
# The world with one of everything, and every write service as its owner would call it.
world, SERVICES, TEXTS = roles.world, roles.SERVICES, roles.TEXTS

ROOT = Path(__file__).resolve().parent.parent
# Where an audit event may be written: the services, the audit module itself, and the
# permission module (a page's refused POST).
ALLOWED = {"workspaces/audit.py", "workspaces/permissions.py"}


def _writes_audit(node: ast.Call) -> bool:
    func = node.func
    if isinstance(func, ast.Attribute):
        owner = func.value
        if func.attr in {"record", "record_refusal"} and getattr(owner, "id", "") == "audit":
            return True
        # AuditEvent.objects.create / bulk_create / get_or_create / update_or_create
        if (
            isinstance(owner, ast.Attribute)
            and owner.attr == "objects"
            and getattr(owner.value, "id", "") == "AuditEvent"
            and "create" in func.attr
        ):
            return True
    if isinstance(func, ast.Name) and func.id in {"AuditEvent", "record", "record_refusal"}:
        return True
    return False


def test_nothing_but_the_services_writes_audit_events():
    offenders = []
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith((".venv/", "tests/", "bench/")) or "/migrations/" in rel:
            continue
        # A services module, or any module of a services package (callflows/services/).
        if rel.endswith("/services.py") or path.parent.name == "services" or rel in ALLOWED:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        offenders += [
            f"{rel}:{node.lineno}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and _writes_audit(node)
        ]
    assert offenders == []


def test_the_scan_sees_a_write(tmp_path):
    """The scan above would catch each way of writing an event."""
    for line in (
        "audit.record(user=u, workspace=w, action='job.created')",
        "AuditEvent.objects.create(action='job.created')",
        "AuditEvent(action='job.created').save()",
        "record(user=u, workspace=w, action='job.created')",
    ):
        calls = [n for n in ast.walk(ast.parse(line)) if isinstance(n, ast.Call)]
        assert any(_writes_audit(call) for call in calls), line


# What each service of tests/test_roles.py records when the owner runs it:
# (action, object type, object label) for each event, oldest first.
EXPECTED = {
    "invitation_send": [("invitation.sent", "invitation", "{invitee}")],
    "invitation_resend": [("invitation.sent", "invitation", "pending@example.test")],
    "invitation_revoke": [("invitation.revoked", "invitation", "pending@example.test")],
    "membership_change_role": [("member.role_changed", "membership", "Admin")],
    "membership_remove": [("member.removed", "membership", "Admin")],
    "api_token_create": [("token.created", "apitoken", "x")],
    "api_token_revoke": [("token.revoked", "apitoken", "Runtime")],
    "workspace_set_retention": [("workspace.retention_changed", "workspace", "{workspace}")],
    "workspace_set_time_zone": [("workspace.time_zone_changed", "workspace", "{workspace}")],
    "job_create": [("job.created", "job", "New")],
    "job_update": [("job.edited", "job", "Booking")],
    "job_delete": [("job.deleted", "job", "Third")],
    "job_restore_deleted": [("job.restored", "job", "Gone")],
    "job_restore_version": [("job.restored", "job", "Booking")],
    "job_resolve_conflict": [("job.created", "job", "New (copy)")],
    # The editor's unsaved text is saved (and committed) first, as its own version.
    "job_optimize": [("job.edited", "job", "Booking"), ("job.optimized", "job", "Booking")],
    "job_undo_optimize": [("job.undo_optimize", "job", "Booking")],
    "template_create_from_job": [("template.saved", "jobtemplate", "Booking")],
    "template_delete": [("template.deleted", "jobtemplate", "Booking template")],
    "job_import": [("job.imported", "", "1 created, 0 updated")],
    # Queuing changes nothing yet: the import records its event when a worker does it.
    "job_import_start": [],
    "knowledge_page_create": [("knowledge.created", "knowledgepage", "New")],
    "knowledge_page_update": [("knowledge.edited", "knowledgepage", "Prices")],
    "knowledge_page_delete": [("knowledge.deleted", "knowledgepage", "Prices")],
    "knowledge_page_restore": [("knowledge.restored", "knowledgepage", "Old")],
    "knowledge_page_restore_version": [("knowledge.restored", "knowledgepage", "Prices")],
    "knowledge_import": [("knowledge.imported", "", "1 page imported")],
    "knowledge_import_start": [],
    "step_attach_knowledge": [("step.knowledge_attached", "step", "Sona on Main")],
    "step_detach_knowledge": [("step.knowledge_detached", "step", "Sona on Main")],
    "step_move_knowledge": [("step.knowledge_moved", "step", "Sona on Main")],
    "phone_number_create": [("number.added", "phonenumber", "Second (+15555550999)")],
    "phone_number_rename": [("number.renamed", "phonenumber", "Renamed (+15555550111)")],
    "phone_number_delete": [("number.deleted", "phonenumber", "Main (+15555550111)")],
    "phone_number_restore": [("number.restored", "phonenumber", "Old line (+15555550222)")],
    "phone_number_set_sms_registered": [
        ("number.sms_registration_changed", "phonenumber", "Main (+15555550111)")
    ],
    "step_add": [("step.added", "step", "Voicemail on Main")],
    "step_update": [("step.changed", "step", "Hello on Main")],
    "step_move": [("step.moved", "step", "Hi on Main")],
    "step_remove": [("step.removed", "step", "Hi on Main")],
    "step_attach_job": [("step.job_attached", "step", "Sona on Main")],
    # A job made from the step: created in the library, then attached.
    "step_create_job": [
        ("job.created", "job", "New"),
        ("step.job_attached", "step", "Sona on Main"),
    ],
    "step_detach_job": [("step.job_detached", "step", "Sona on Main")],
    "step_move_job": [("step.job_moved", "step", "Sona on Main")],
    "callflow_publish": [("callflow.published", "callflowversion", "Version 3 of Main")],
    "callflow_rollback": [("callflow.rolled_back", "callflowversion", "Version 3 of Main")],
    "mock_call_end": [("call.mock_ended", "call", "Mock call on Main")],
    "scenario_create": [("scenario.created", "scenario", "Can I book")],
    "scenario_update": [("scenario.changed", "scenario", "Booking")],
    "scenario_delete": [("scenario.deleted", "", "I need a booking")],
    "scenarios_import": [("scenario.imported", "", "1 scenario(s) imported")],
    "webhook_add": [("webhook.added", "webhookendpoint", "https://crm.example.com/in")],
    "webhook_update": [("webhook.updated", "webhookendpoint", "https://hooks.example.com/in")],
    "webhook_rotate_secret": [
        ("webhook.rotated", "webhookendpoint", "https://hooks.example.com/in")
    ],
    "webhook_disable": [("webhook.disabled", "webhookendpoint", "https://hooks.example.com/in")],
    "webhook_enable": [("webhook.enabled", "webhookendpoint", "https://off.example.com/in")],
    "webhook_delete": [("webhook.deleted", "webhookendpoint", "https://hooks.example.com/in")],
    "webhook_resend": [("webhook.resent", "webhookendpoint", "https://hooks.example.com/in")],
    "alert_rules_update": [("alert_rule.updated", "alertrule", "No job matched on a step")],
    "alert_acknowledge": [
        ("alert.acknowledged", "alert", "No job matched 11 of the last 50 calls")
    ],
    "alert_resolve": [("alert.resolved", "alert", "No job matched 11 of the last 50 calls")],
    "alert_emails_set": [("member.alert_emails_changed", "membership", "{owner}")],
}


def test_every_service_has_an_expectation():
    assert set(EXPECTED) == set(SERVICES)


def _events_after(last_pk):
    return list(AuditEvent.objects.filter(pk__gt=last_pk).order_by("pk"))


def _last_pk():
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_each_action_writes_exactly_its_events(world, service):
    world.admin_membership.user.full_name = "Admin"
    world.admin_membership.user.save()
    if service == "job_undo_optimize":  # needs an optimize to undo first
        js.job_optimize(job=world.job, user=world.owner)
    start = _last_pk()
    SERVICES[service](world, world.owner)
    events = _events_after(start)
    expected = [
        (
            action,
            kind,
            label.format(
                invitee=world.invitee.email,
                workspace=world.workspace.name,
                owner=world.owner.get_full_name(),
            ),
        )
        for action, kind, label in EXPECTED[service]
    ]
    assert [(e.action, e.object_type, e.object_label) for e in events] == expected
    for event in events:
        assert (event.actor, event.workspace, event.via_support) == (
            world.owner,
            world.workspace,
            False,
        )
        assert bool(event.object_id) == bool(event.object_type)


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_a_refused_attempt_writes_one_refusal_and_nothing_else(world, service):
    # A member may end a mock call (roles.MEMBER_MAY): an owner of another workspace may not.
    actor = owner_of(WorkspaceFactory()) if service in roles.MEMBER_MAY else world.member
    start = _last_pk()
    with pytest.raises(RoleRequired) as exc:
        SERVICES[service](world, actor)
    events = _events_after(start)
    assert [(e.action, e.actor, e.workspace) for e in events] == [
        ("write.refused", actor, world.workspace)
    ]
    # What was attempted, in the words of the refusal ("… can publish call flows.").
    attempted = events[0].details["attempted"]
    assert str(exc.value).endswith(f" can {attempted}.")
    assert events[0].details["service"] == service


def test_an_outsider_refusal_is_recorded_in_the_target_workspace(world, other_workspace):
    outsider = owner_of(other_workspace)
    start = _last_pk()
    with pytest.raises(RoleRequired):
        cf.callflow_publish(call_flow=world.flow, user=outsider)
    [event] = _events_after(start)
    assert (event.action, event.actor, event.workspace) == (
        "write.refused",
        outsider,
        world.workspace,
    )
    assert event.details["attempted"] == "publish call flows"


@pytest.mark.django_db(transaction=True)
def test_the_refusal_survives_the_rollback_and_is_committed(workspace, owner, member, phone):
    """No test transaction around it: the refusal is committed, the service's change is not."""
    with pytest.raises(RoleRequired):
        cf.callflow_publish(call_flow=phone.call_flow, user=member, note="mine")
    assert not phone.call_flow.versions.exists()
    assert list(AuditEvent.objects.filter(actor=member).values_list("action", flat=True)) == [
        "write.refused"
    ]


def test_a_failed_write_records_nothing(world):
    """The event is in the change's transaction: a write refused for a rule leaves no event."""
    start = _last_pk()
    with pytest.raises(Exception, match="already attached"):
        cf.step_attach_job(step=world.sona, job=world.job, user=world.owner)
    assert _events_after(start) == []


def test_an_event_rolls_back_with_its_change(world):
    start = _last_pk()
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        js.job_update(
            job=world.job, data={"description": "Gone with the rollback."}, user=world.owner
        )
        1 / 0  # noqa: B018
    assert _events_after(start) == []


# Details ------------------------------------------------------------------------------------


def test_publish_and_rollback_name_the_versions_and_note(world):
    published = cf.callflow_publish(call_flow=world.flow, user=world.owner, note="Voicemail too")
    rolled = cf.callflow_rollback(call_flow=world.flow, version=world.v1, user=world.owner)
    first, second = AuditEvent.objects.filter(action__startswith="callflow.").order_by("-pk")[:2][
        ::-1
    ]
    assert (first.details["before"], first.details["after"], first.details["note"]) == (
        2,
        3,
        "Voicemail too",
    )
    assert int(first.object_id) == published.pk
    assert (
        second.details["before"],
        second.details["after"],
        second.details["rolled_back_to"],
    ) == (
        3,
        4,
        1,
    )
    assert int(second.object_id) == rolled.pk


def test_an_edit_names_the_fields_and_versions_not_the_texts(world):
    before = world.job.history.order_by("-history_id").first().history_id
    start = _last_pk()
    js.job_update(
        job=world.job, data={"description": "Third.", "name": "Booking"}, user=world.owner
    )
    [event] = _events_after(start)
    after = world.job.history.order_by("-history_id").first().history_id
    assert event.details == {"fields": ["description"], "before": before, "after": after}


def test_an_unchanged_save_records_nothing(world):
    start = _last_pk()
    js.job_update(job=world.job, data={"name": "Booking"}, user=world.owner)
    assert _events_after(start) == []


def test_optimize_without_unsaved_text_is_one_optimized_event(world):
    start = _last_pk()
    js.job_optimize(job=world.job, user=world.owner)
    assert [e.action for e in _events_after(start)] == ["job.optimized"]


def test_keeping_the_newer_version_after_a_conflict_is_one_edit(world):
    stale = world.job.revision
    js.job_update(job=world.job, data={"description": "Theirs first."}, user=world.owner)
    start = _last_pk()
    js.job_resolve_conflict(
        job=world.job,
        user=world.owner,
        choice="keep",
        attempted={**TEXTS, "name": "Booking"},
        current_revision=stale + 1,
    )
    assert [e.action for e in _events_after(start)] == ["job.edited"]


def test_rename_and_role_change_record_before_and_after(world):
    cf.phone_number_rename(phone_number=world.phone, display_name="Front desk", user=world.owner)
    event = AuditEvent.objects.get(action="number.renamed")
    assert (event.details["before"], event.details["after"]) == ("Main", "Front desk")
    from workspaces.services import membership_change_role

    membership_change_role(membership=world.admin_membership, role="member", user=world.owner)
    event = AuditEvent.objects.get(action="member.role_changed")
    assert (event.details["before"], event.details["after"]) == ("admin", "member")


def test_an_import_is_one_event_with_counts_and_names(world):
    records = [{**TEXTS, "name": f"Imported {i}"} for i in range(3)] + [
        {"name": "Booking", "instructions": "1. Book it."}
    ]
    start = _last_pk()
    js.job_import(workspace=world.workspace, records=records, user=world.owner)
    [event] = _events_after(start)
    assert event.action == "job.imported"
    assert (event.details["created"], event.details["updated"], event.details["unchanged"]) == (
        3,
        1,
        0,
    )
    assert event.details["created_names"] == ["Imported 0", "Imported 1", "Imported 2"]
    assert event.details["updated_names"] == ["Booking"]


def test_a_dry_run_import_records_nothing(world):
    start = _last_pk()
    js.job_import(workspace=world.workspace, records=[TEXTS], user=world.owner, dry_run=True)
    assert _events_after(start) == []


# Pages ---------------------------------------------------------------------------------------


def test_a_members_refused_post_is_recorded_once(member_client, member, workspace, phone):
    start = _last_pk()
    response = member_client.post(reverse("callflows:publish", args=[phone.pk]))
    assert response.status_code == 403
    [event] = _events_after(start)
    assert (event.action, event.actor, event.workspace) == ("write.refused", member, workspace)
    assert event.details["attempted"] == f"POST /numbers/{phone.pk}/publish/"


def test_a_members_page_read_is_not_a_refused_write(member_client, workspace):
    start = _last_pk()
    assert member_client.get(reverse("workspaces:tokens")).status_code == 403
    assert _events_after(start) == []


def test_a_refusal_inside_an_outer_service_is_recorded_once_after_its_rollback(world):
    """The inner service refuses; the outermost records the attempt once its own transaction
    has rolled back (an event written inside would be rolled back with it)."""
    from workspaces.audit import write_service

    @write_service
    def outer(*, user):
        cf.step_add(call_flow=world.flow, kind="voicemail", name="Mine", user=world.owner)
        return cf.callflow_publish(call_flow=world.flow, user=user)

    start = _last_pk()
    with pytest.raises(RoleRequired):
        outer(user=world.member)
    assert [(e.action, e.details["service"]) for e in _events_after(start)] == [
        ("write.refused", "callflow_publish")
    ]
    assert not world.flow.steps.filter(name="Mine").exists()
