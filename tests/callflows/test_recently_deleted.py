"""Deleting a number moves it to Recently deleted: its line stops answering at once, its call
flow, published versions, scenarios and settings wait there for DELETED_KEEP_DAYS and come back
with a restore; then purge_deleted deletes them (and deleted jobs and pages) for good, keeping
calls and whatever a published version still names."""

import json
import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from callflows import live as live_module
from callflows import selectors, services
from callflows.models import CallFlow, CallFlowVersion, PhoneNumber, Step, StepKind
from callflows.tasks import purge_deleted
from calls.models import Call, Scenario
from jobs import services as js
from jobs.models import Job
from knowledge import services as ks
from knowledge.models import KnowledgePage
from tests.conftest import messages_of
from tests.factories import CallFactory, ScenarioFactory, WorkspaceFactory, owner_of
from workspaces.models import AuditEvent
from workspaces.services import api_token_create

pytestmark = pytest.mark.django_db

NUMBER = "+15555550123"  # the `phone` fixture's
TEXTS = {"name": "Booking", "instructions": "1. Ask for the date.\n2. Book it."}
DAY = timedelta(days=1)


@pytest.fixture(autouse=True)
def empty_caches():
    cache.clear()
    live_module._bodies.clear()


@pytest.fixture
def line(workspace, owner, phone, sona):
    """A published number with a job, a scenario, step settings and SMS registration."""
    job = js.job_create(workspace=workspace, user=owner, data=TEXTS)
    services.step_attach_job(step=sona, job=job, user=owner)
    settings_ = {**sona.settings, "greeting": "Thanks for calling Main line!"}
    services.step_update(step=sona, name="Front desk", settings=settings_, user=owner)
    services.phone_number_set_sms_registered(phone_number=phone, registered=True, user=owner)
    services.callflow_publish(call_flow=phone.call_flow, user=owner, note="first")
    ScenarioFactory(call_flow=phone.call_flow, expect={"job": job.name})
    phone.refresh_from_db()
    return phone


def _kept(phone) -> dict:
    """Everything a number is restored with."""
    flow = CallFlow.objects.get(phone_number=phone)
    return {
        "number": PhoneNumber.objects.filter(pk=phone.pk).values(
            "number", "display_name", "sms_registered", "workspace"
        )[0],
        "live": flow.live_version_id,
        "versions": list(CallFlowVersion.objects.filter(call_flow=flow).values()),
        "steps": list(Step.objects.filter(call_flow=flow).values()),
        "jobs": list(flow.steps.values_list("step_jobs__job_id", "step_jobs__position")),
        "scenarios": list(Scenario.objects.filter(call_flow=flow).values()),
    }


def _token(workspace, owner) -> str:
    return api_token_create(workspace=workspace, name="runtime", user=owner).raw


def _live(client, number, token):
    return client.get(reverse("api:live", args=[number]), HTTP_AUTHORIZATION=f"Bearer {token}")


def _route(client, number, token):
    return client.post(
        reverse("calls_api:route", args=[number]),
        data=json.dumps({"said": "I need a booking"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def _deleted_days_ago(phone, days: int) -> None:
    PhoneNumber.objects.filter(pk=phone.pk).update(deleted_at=timezone.now() - days * DAY)


# Delete and restore -------------------------------------------------------------------------


def test_delete_keeps_the_number_and_everything_of_its_call_flow(line, owner):
    before = _kept(line)
    services.phone_number_delete(phone_number=line, user=owner)
    phone = PhoneNumber.objects.get(pk=line.pk)
    assert phone.is_deleted and phone.deleted_by == owner
    assert _kept(phone) == before  # nothing of it was deleted or changed
    assert list(PhoneNumber.objects.deleted()) == [phone]
    assert not PhoneNumber.objects.live().exists()


def test_the_line_stops_answering_a_deleted_number_and_answers_again_once_restored(
    client, workspace, owner, line
):
    token = _token(workspace, owner)
    assert _live(client, NUMBER, token).status_code == 200
    assert _route(client, NUMBER, token).status_code == 200
    services.phone_number_delete(phone_number=line, user=owner)
    for response in (_live(client, NUMBER, token), _route(client, NUMBER, token)):
        assert response.status_code == 404
        assert response.json()["error"] == "Unknown phone number."
    services.phone_number_restore(phone_number=line, user=owner)
    response = _live(client, NUMBER, token)
    assert response.status_code == 200
    assert response.json()["version"]["number"] == 1
    assert response.json()["steps"][0]["name"] == "Front desk"
    assert _route(client, NUMBER, token).status_code == 200


def test_restore_brings_back_versions_scenarios_and_settings_intact(line, owner):
    before = _kept(line)
    services.phone_number_delete(phone_number=line, user=owner)
    restored = services.phone_number_restore(phone_number=line, user=owner)
    assert not restored.is_deleted and restored.deleted_by is None
    assert _kept(restored) == before
    assert selectors.phone_number_get(workspace=line.workspace, pk=line.pk) == line


def test_the_number_can_be_added_again_and_then_restore_is_refused(workspace, owner, line):
    services.phone_number_delete(phone_number=line, user=owner)
    again = services.phone_number_create(
        workspace=workspace, number=NUMBER, display_name="New line", user=owner
    )
    before = _kept(line)
    with pytest.raises(ValidationError, match=r"in use again by “New line”\. Delete that number"):
        services.phone_number_restore(phone_number=line, user=owner)
    assert PhoneNumber.objects.get(pk=line.pk).is_deleted and _kept(line) == before
    # Another workspace re-adding it is named as such (not by its name).
    services.phone_number_delete(phone_number=again, user=owner)
    other = WorkspaceFactory()
    services.phone_number_create(
        workspace=other, number=NUMBER, display_name="Theirs", user=owner_of(other)
    )
    with pytest.raises(ValidationError, match="in use again by another workspace"):
        services.phone_number_restore(phone_number=line, user=owner)


def test_the_live_lookup_finds_the_re_added_number_not_the_deleted_one(
    client, workspace, owner, line
):
    services.phone_number_delete(phone_number=line, user=owner)
    services.phone_number_create(
        workspace=workspace, number=NUMBER, display_name="New line", user=owner
    )
    response = _live(client, NUMBER, _token(workspace, owner))
    assert response.status_code == 404  # the new number is not published yet
    assert response.json()["error"] == "This phone number has no published call flow yet."


def test_restore_is_refused_while_its_live_version_uses_a_deleted_job(workspace, owner, line):
    job = Job.objects.get(name="Booking")
    services.phone_number_delete(phone_number=line, user=owner)
    js.job_delete(job=job, user=owner)  # no live number uses it now
    with pytest.raises(ValidationError, match="its live version uses “Booking”, deleted since"):
        services.phone_number_restore(phone_number=line, user=owner)
    assert PhoneNumber.objects.get(pk=line.pk).is_deleted
    js.job_restore_deleted(job=job, user=owner)
    services.phone_number_restore(phone_number=line, user=owner)


def test_a_deleted_number_is_out_of_lists_pickers_and_pages(owner_client, workspace, owner, line):
    step = line.call_flow.steps.get()
    services.phone_number_delete(phone_number=line, user=owner)
    assert NUMBER not in owner_client.get(reverse("callflows:list")).text
    for url in (
        reverse("callflows:editor", args=[line.pk]),
        reverse("callflows:versions", args=[line.pk]),
        reverse("callflows:step_edit", args=[line.pk, step.pk]),
        reverse("calls:tests", args=[line.pk, step.pk]),
    ):
        assert owner_client.get(url).status_code == 404, url
    # A transfer may not name it; the job editor does not offer it.
    with pytest.raises(ValidationError, match="Transfer call"):
        js.job_create(
            workspace=workspace,
            user=owner,
            data={"name": "To main", "instructions": f"[[Transfer call: number {NUMBER}]]"},
        )
    assert ("To main", NUMBER) not in list(
        PhoneNumber.objects.live().values_list("display_name", "number")
    )


def test_a_call_on_the_line_when_its_number_was_deleted_is_still_reported(
    client, workspace, owner, line
):
    token = _token(workspace, owner)
    services.phone_number_delete(phone_number=line, user=owner)
    now = timezone.now()
    response = client.post(
        reverse("calls_api:calls"),
        data=json.dumps(
            {
                "number": NUMBER,
                "external_id": "CA-LAST",
                "started_at": (now - timedelta(minutes=2)).isoformat(),
                "ended_at": now.isoformat(),
                "outcome": "resolved",
                "summary": "Booked before the number was deleted.",
            }
        ),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 201, response.json()
    assert Call.objects.get().phone_number == line


def test_a_deleted_numbers_call_flow_is_not_changed_until_restored(staff_client, owner, line):
    services.phone_number_delete(phone_number=line, user=owner)
    before = _kept(line)
    refused = re.escape("+15555550123 is in Recently deleted. Restore it before changing")
    with pytest.raises(ValidationError, match=refused):
        services.step_add(call_flow=line.call_flow, kind=StepKind.VOICEMAIL, name="VM", user=owner)
    version = line.call_flow.versions.get()
    with pytest.raises(ValidationError, match=refused):
        services.callflow_rollback(call_flow=line.call_flow, version=version, user=owner)
    # Support staff's "Publish the selected version again" says so too.
    response = staff_client.post(
        reverse("admin:callflows_callflowversion_changelist"),
        {"action": "publish_again", "_selected_action": [version.pk]},
        follow=True,
    )
    assert "is in Recently deleted" in response.text
    assert _kept(line) == before


# Pages ----------------------------------------------------------------------------------------


def test_the_confirm_page_says_what_the_line_stops_doing_and_what_is_kept(owner_client, line):
    text = owner_client.get(reverse("callflows:delete", args=[line.pk])).text
    assert "Calls to +15555550123 will no longer be answered by Sona" in text
    assert "(it answers them now with version 1)" in text
    assert "1 published version, its 1 scenario and its settings" in text
    assert f"within {settings.DELETED_KEEP_DAYS} days" in text
    assert "This cannot be undone" not in text


def test_delete_and_restore_through_the_pages(owner_client, line):
    response = owner_client.post(reverse("callflows:delete", args=[line.pk]))
    assert response.status_code == 302 and response.url == reverse("callflows:list")
    assert "moved to Recently deleted: Sona no longer answers its calls" in " ".join(
        messages_of(response)
    )
    listed = owner_client.get(reverse("callflows:deleted")).text
    assert NUMBER in listed and "Main line" in listed
    assert 'aria-label="Restore Main line (+15555550123)"' in listed
    response = owner_client.post(reverse("callflows:restore", args=[line.pk]))
    assert response.status_code == 302 and response.url == line.get_absolute_url()
    assert "Sona answers its calls again with version 1." in " ".join(messages_of(response))
    assert not PhoneNumber.objects.get(pk=line.pk).is_deleted
    assert "No deleted numbers." in owner_client.get(reverse("callflows:deleted")).text


def test_a_refused_restore_says_why_on_the_page(owner_client, workspace, owner, line):
    services.phone_number_delete(phone_number=line, user=owner)
    services.phone_number_create(
        workspace=workspace, number=NUMBER, display_name="New line", user=owner
    )
    response = owner_client.post(reverse("callflows:restore", args=[line.pk]))
    assert response.status_code == 302 and response.url == reverse("callflows:deleted")
    assert "in use again by “New line”" in " ".join(messages_of(response))
    assert PhoneNumber.objects.get(pk=line.pk).is_deleted


def test_a_member_sees_the_list_but_may_not_delete_or_restore(member_client, owner, line):
    assert member_client.post(reverse("callflows:delete", args=[line.pk])).status_code == 403
    assert not PhoneNumber.objects.get(pk=line.pk).is_deleted
    services.phone_number_delete(phone_number=line, user=owner)
    listed = member_client.get(reverse("callflows:deleted"))
    assert listed.status_code == 200 and NUMBER in listed.text and "Restore" not in listed.text
    assert member_client.post(reverse("callflows:restore", args=[line.pk])).status_code == 403
    assert PhoneNumber.objects.get(pk=line.pk).is_deleted


def test_another_workspaces_deleted_number_is_not_listed_nor_restorable(
    owner_client, other_workspace
):
    other_owner = owner_of(other_workspace)
    theirs = services.phone_number_create(
        workspace=other_workspace, number="+15555550777", display_name="Theirs", user=other_owner
    )
    services.phone_number_delete(phone_number=theirs, user=other_owner)
    assert "+15555550777" not in owner_client.get(reverse("callflows:deleted")).text
    assert owner_client.post(reverse("callflows:restore", args=[theirs.pk])).status_code == 404
    assert PhoneNumber.objects.get(pk=theirs.pk).is_deleted


def test_a_live_number_is_not_restorable_by_url(owner_client, line):
    assert owner_client.post(reverse("callflows:restore", args=[line.pk])).status_code == 404


# Admin ----------------------------------------------------------------------------------------


def test_an_admin_delete_is_soft_and_staff_restore_it(staff_client, staff, line):
    before = _kept(line)
    url = reverse("admin:callflows_phonenumber_delete", args=[line.pk])
    confirm = staff_client.get(url).text
    assert "Recently deleted" in confirm and "Call flow of" not in confirm  # no cascade listed
    staff_client.post(url, {"post": "yes"})
    phone = PhoneNumber.objects.get(pk=line.pk)
    assert phone.is_deleted and phone.deleted_by == staff and _kept(phone) == before
    event = AuditEvent.objects.get(action="number.deleted")
    assert event.actor == staff and event.via_support
    changelist = reverse("admin:callflows_phonenumber_changelist")
    assert NUMBER in staff_client.get(changelist, {"status": "deleted"}).text
    staff_client.post(
        changelist, {"action": "restore_selected", "_selected_action": [phone.pk]}, follow=True
    )
    assert not PhoneNumber.objects.get(pk=line.pk).is_deleted
    assert _kept(line) == before
    assert AuditEvent.objects.filter(action="number.restored", actor=staff).exists()


def test_an_admin_bulk_delete_is_soft_too(staff_client, line):
    staff_client.post(
        reverse("admin:callflows_phonenumber_changelist"),
        {"action": "delete_selected", "_selected_action": [line.pk], "post": "yes"},
    )
    assert PhoneNumber.objects.get(pk=line.pk).is_deleted
    assert CallFlowVersion.objects.filter(call_flow__phone_number=line).count() == 1


# Audit ----------------------------------------------------------------------------------------


def test_delete_restore_and_purge_are_recorded(owner_client, workspace, owner, line):
    services.phone_number_delete(phone_number=line, user=owner)
    services.phone_number_restore(phone_number=line, user=owner)
    services.phone_number_delete(phone_number=line, user=owner)
    assert services.phone_number_purge_deleted(now=timezone.now() + 31 * DAY) == 1
    events = list(
        AuditEvent.objects.filter(action__startswith="number.", object_id=str(line.pk))
        .exclude(action__in=["number.added", "number.sms_registration_changed"])
        .order_by("pk")
        .values_list("action", "actor", "object_label")
    )
    label = "Main line (+15555550123)"
    assert events == [
        ("number.deleted", owner.pk, label),
        ("number.restored", owner.pk, label),
        ("number.deleted", owner.pk, label),
        ("number.purged", None, label),  # a system job: no actor
    ]
    purged = AuditEvent.objects.get(action="number.purged")
    assert purged.workspace == workspace
    assert (purged.details["versions"], purged.details["scenarios"]) == (1, 1)
    text = owner_client.get(reverse("workspaces:activity")).text
    assert "purged a deleted phone number" in text
    assert "by purge_deleted with 1 version(s), 1 scenario(s)" in text


# Purge ----------------------------------------------------------------------------------------


def test_a_number_is_purged_after_the_keep_days_with_its_call_flow_but_not_its_calls(
    workspace, owner, line
):
    call = CallFactory(phone_number=line)
    services.phone_number_delete(phone_number=line, user=owner)
    deleted_at = PhoneNumber.objects.get(pk=line.pk).deleted_at
    assert services.phone_number_purge_deleted(now=deleted_at + 30 * DAY - timedelta(1)) == 0
    assert PhoneNumber.objects.filter(pk=line.pk).exists()
    assert services.phone_number_purge_deleted(now=deleted_at + 30 * DAY + timedelta(1)) == 1
    assert not PhoneNumber.objects.filter(pk=line.pk).exists()
    assert not CallFlow.objects.exists() and not CallFlowVersion.objects.exists()
    assert not Scenario.objects.exists() and not Step.objects.exists()
    call.refresh_from_db()  # kept, with its copied number; only the link is cleared
    assert call.phone_number is None and call.number == NUMBER and call.summary
    assert Job.objects.filter(name="Booking", deleted_at__isnull=True).exists()
    # Idempotent: nothing left to purge.
    assert services.phone_number_purge_deleted(now=deleted_at + 60 * DAY) == 0


def test_purge_leaves_newer_deletions_and_live_numbers_alone(workspace, owner, line):
    recent = services.phone_number_create(
        workspace=workspace, number="+15555550124", display_name="Recent", user=owner
    )
    kept = services.phone_number_create(
        workspace=workspace, number="+15555550125", display_name="Kept", user=owner
    )
    services.phone_number_delete(phone_number=line, user=owner)
    services.phone_number_delete(phone_number=recent, user=owner)
    _deleted_days_ago(line, 31)
    _deleted_days_ago(recent, 29)
    assert services.phone_number_purge_deleted() == 1
    assert set(PhoneNumber.objects.values_list("display_name", flat=True)) == {"Recent", "Kept"}
    assert kept.call_flow.steps.exists() and recent.call_flow.steps.exists()


def test_purge_works_in_batches(workspace, owner):
    phones = [
        services.phone_number_create(
            workspace=workspace, number=f"+1555555020{i}", display_name=f"L{i}", user=owner
        )
        for i in range(5)
    ]
    for phone in phones:
        services.phone_number_delete(phone_number=phone, user=owner)
    later = timezone.now() + 31 * DAY
    assert services.phone_number_purge_deleted(now=later, batch_size=2) == 5
    assert not PhoneNumber.objects.exists()
    assert AuditEvent.objects.filter(action="number.purged").count() == 5


def test_deleted_jobs_and_pages_are_purged_unless_a_published_version_names_them(
    workspace, owner, phone, sona
):
    old = js.job_create(workspace=workspace, user=owner, data={**TEXTS, "name": "Old"})
    frozen = js.job_create(workspace=workspace, user=owner, data={**TEXTS, "name": "Frozen"})
    recent = js.job_create(workspace=workspace, user=owner, data={**TEXTS, "name": "Recent"})
    page = ks.knowledge_page_create(workspace=workspace, user=owner, title="Old", body="Facts.")
    held = ks.knowledge_page_create(workspace=workspace, user=owner, title="Held", body="More.")
    # Version 1 names "Frozen" and "Held"; version 2 (live) does not: they may be deleted.
    services.step_attach_job(step=sona, job=frozen, user=owner)
    services.step_attach_knowledge(step=sona, page=held, user=owner)
    services.callflow_publish(call_flow=phone.call_flow, user=owner)
    services.step_detach_job(step=sona, job=frozen, user=owner)
    services.step_detach_knowledge(step=sona, page=held, user=owner)
    services.callflow_publish(call_flow=phone.call_flow, user=owner)
    call = CallFactory(phone_number=phone, job=old, job_name="Old")
    for job in (old, frozen, recent):
        js.job_delete(job=job, user=owner)
    for p in (page, held):
        ks.knowledge_page_delete(page=p, user=owner)
    later = timezone.now() + 31 * DAY
    Job.objects.filter(name="Recent").update(deleted_at=later - 29 * DAY)  # deleted later
    assert js.job_purge_deleted(now=later - 2 * DAY) == 0
    assert js.job_purge_deleted(now=later) == 1  # "Old" only: "Frozen" is held, "Recent" new
    assert ks.knowledge_page_purge_deleted(now=later) == 1
    assert set(Job.objects.values_list("name", flat=True)) == {"Frozen", "Recent"}
    assert set(KnowledgePage.objects.values_list("title", flat=True)) == {"Held"}
    # Version 1 still reads whole; the call keeps its data; the history stays, ending "purged".
    steps = selectors.version_steps(
        workspace=workspace, snapshot=phone.call_flow.versions.get(number=1).snapshot
    )
    assert [j.name for j in steps[0]["jobs"]] == ["Frozen"]
    call.refresh_from_db()
    assert call.job is None and call.job_name == "Old"
    assert Job.history.filter(id=old.pk).latest("history_id").history_change_reason == "purged"
    events = AuditEvent.objects.filter(action__in=["job.purged", "knowledge.purged"])
    assert sorted(events.values_list("action", "object_label", "actor")) == [
        ("job.purged", "Old", None),
        ("knowledge.purged", "Old", None),
    ]
    assert js.job_purge_deleted(now=later) == 0  # idempotent


def test_a_restored_job_is_not_purged(workspace, owner):
    job = js.job_create(workspace=workspace, user=owner, data=TEXTS)
    js.job_delete(job=job, user=owner)
    js.job_restore_deleted(job=job, user=owner)
    assert js.job_purge_deleted(now=timezone.now() + 365 * DAY) == 0
    assert Job.objects.filter(pk=job.pk, deleted_at__isnull=True).exists()


def test_the_task_purges_a_number_and_the_jobs_only_its_versions_held_in_one_run(
    workspace, owner, line
):
    job = Job.objects.get(name="Booking")
    services.phone_number_delete(phone_number=line, user=owner)
    js.job_delete(job=job, user=owner)  # allowed: no live number uses it any more
    _deleted_days_ago(line, 31)
    Job.objects.filter(pk=job.pk).update(deleted_at=timezone.now() - 31 * DAY)
    assert purge_deleted.delay().get() == {"numbers": 1, "jobs": 1, "knowledge_pages": 0}
    assert not PhoneNumber.objects.exists() and not Job.objects.filter(pk=job.pk).exists()
    # Safe to run again (a retry, tomorrow's run).
    assert purge_deleted.delay().get() == {"numbers": 0, "jobs": 0, "knowledge_pages": 0}


def test_the_task_is_scheduled_daily():
    entry = settings.CELERY_BEAT_SCHEDULE["purge-deleted"]
    assert entry["task"] == "callflows.tasks.purge_deleted" == purge_deleted.name
    assert entry["schedule"].hour == {3} and entry["schedule"].minute == {30}
    assert settings.DELETED_KEEP_DAYS == 30


def test_staff_add_a_number_again_in_the_admin_while_the_old_one_waits(staff_client, owner, line):
    services.phone_number_delete(phone_number=line, user=owner)
    response = staff_client.post(
        reverse("admin:callflows_phonenumber_add"),
        {"workspace": line.workspace.pk, "number": NUMBER, "display_name": "Again"},
    )
    assert response.status_code == 302
    assert PhoneNumber.objects.live().get().display_name == "Again"
    assert PhoneNumber.objects.deleted().get() == line
