"""The admin acts through staff_support: a staff user who is no member edits, and history and
versions name that staff user; a refusal is an error message, never a 500."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from callflows import services as cf
from callflows.models import CallFlowVersion
from jobs import services as js
from jobs.models import Job
from tests.factories import UserFactory
from workspaces.models import Membership, Role
from workspaces.permissions import RoleRequired

pytestmark = pytest.mark.django_db

TEXTS = {
    "name": "Booking",
    "description": "Books a table.",
    "trigger": "Caller wants a table.",
    "instructions": "1. Greet the caller.\n2. End the call.",
}


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_staff_non_member_edits_a_job_attributed_to_staff(staff_client, staff, workspace, owner):
    assert not staff.memberships.exists()
    job = js.job_create(workspace=workspace, user=owner, data=TEXTS)
    response = staff_client.post(
        reverse("admin:jobs_job_change", args=[job.pk]),
        {**TEXTS, "description": "Fixed by support.", "revision": job.revision},
    )
    assert response.status_code == 302
    job.refresh_from_db()
    assert (job.description, job.updated_by) == ("Fixed by support.", staff)
    assert job.history.latest("history_id").history_user == staff


def test_staff_restores_a_version_and_deletes(staff_client, staff, workspace, owner):
    job = js.job_create(workspace=workspace, user=owner, data=TEXTS)
    job = js.job_update(job=job, user=owner, data={"description": "Second."})
    first = job.history.earliest("history_id")
    staff_client.post(
        reverse("admin:jobs_job_restore_version", args=[job.pk, first.history_id]),
        {"revision": job.revision},
    )
    job.refresh_from_db()
    assert job.description == TEXTS["description"]
    assert job.history.latest("history_id").history_user == staff
    staff_client.post(reverse("admin:jobs_job_delete", args=[job.pk]), {"post": "yes"})
    job.refresh_from_db()
    assert job.is_deleted and job.history.latest("history_id").history_user == staff


def test_staff_publishes_through_the_action(staff_client, staff, workspace, owner):
    phone = cf.phone_number_create(
        workspace=workspace, number="+15555550142", display_name="Main", user=owner
    )
    response = staff_client.post(
        reverse("admin:callflows_callflow_changelist"),
        {"action": "publish_draft", "_selected_action": [phone.call_flow.pk]},
    )
    assert response.status_code == 302
    assert CallFlowVersion.objects.get().published_by == staff


def test_staff_outside_the_admin_is_an_ordinary_user(staff, workspace, owner):
    job = js.job_create(workspace=workspace, user=owner, data=TEXTS)
    with pytest.raises(RoleRequired, match="Only owners and admins"):
        js.job_delete(job=job, user=staff)
    assert not Job.objects.get(pk=job.pk).is_deleted


def test_refusal_in_save_model_is_a_message_not_a_500(staff_client, workspace, owner):
    gone = UserFactory(is_active=False)
    response = staff_client.post(
        reverse("admin:workspaces_membership_add"),
        {"user": gone.pk, "workspace": workspace.pk, "role": Role.ADMIN, "_save": "Save"},
    )
    assert response.status_code == 302
    assert any("No user with the email" in m for m in messages_of(response))
    assert not Membership.objects.filter(user=gone).exists()


def test_staff_non_member_deletes_a_scenario_through_the_service(
    staff_client, staff, workspace, owner
):
    from calls.models import Scenario
    from calls.services import scenario_create
    from workspaces.models import AuditEvent

    phone = cf.phone_number_create(
        workspace=workspace, number="+15555550143", display_name="Main", user=owner
    )
    sona = phone.call_flow.steps.get()
    job = js.job_create(workspace=workspace, user=owner, data=TEXTS)
    case = scenario_create(
        call_flow=phone.call_flow,
        user=owner,
        step_key=sona.key,
        name="A table please",
        turns=["A table please"],
        expect={"job": job.name},
    )
    response = staff_client.post(
        reverse("admin:calls_scenario_delete", args=[case.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not Scenario.objects.exists()
    event = AuditEvent.objects.get(action="scenario.deleted")
    assert (event.actor, event.via_support) == (staff, True)
