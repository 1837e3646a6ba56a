"""Actions and call flows: SMS registration, checks before going live, deleting a number a
transfer names, and the parsed actions in the runtime API."""

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.urls import reverse

from callflows import checks, live, services
from callflows.models import PhoneNumber
from callflows.snapshots import build_snapshot
from jobs import services as js
from jobs.models import Job
from tests.conftest import attach, messages_of
from tests.factories import JobFactory, MembershipFactory
from workspaces.models import AuditEvent, Role
from workspaces.services import api_token_create

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_bodies():
    cache.clear()
    live._bodies.clear()  # ids repeat across tests: a body from another test must not answer


SMS = "[[Send SMS: Track your visit at https://acme.test/t]]"


def texts(instructions, name="Job"):
    return {"name": name, "description": "", "trigger": "", "instructions": instructions}


@pytest.fixture
def sms_job(workspace, owner):
    return js.job_create(workspace=workspace, user=owner, data=texts(f"1. Text. {SMS}", "Texter"))


def test_publishing_sms_from_an_unregistered_number_is_refused(phone, sona, owner, sms_job):
    attach(sona, [sms_job], owner)
    with pytest.raises(ValidationError) as refused:
        services.callflow_publish(call_flow=phone.call_flow, user=owner)
    blocked, message = refused.value.messages  # "Cannot publish: fix these errors first", then each
    assert "“Texter” sends an SMS" in message and "Main line (+15555550123)" in message
    assert "not registered for SMS" in message
    phone.call_flow.refresh_from_db()
    assert phone.call_flow.live_version is None and not phone.call_flow.versions.exists()

    services.phone_number_set_sms_registered(phone_number=phone, registered=True, user=owner)
    version = services.callflow_publish(call_flow=phone.call_flow, user=owner)
    assert version.number == 1


def test_rollback_to_a_version_that_sends_sms_is_refused_once_unregistered(
    phone, sona, owner, sms_job
):
    services.phone_number_set_sms_registered(phone_number=phone, registered=True, user=owner)
    attach(sona, [sms_job], owner)
    first = services.callflow_publish(call_flow=phone.call_flow, user=owner)
    services.step_detach_job(step=sona, job=sms_job, user=owner)
    services.callflow_publish(call_flow=phone.call_flow, user=owner)
    services.phone_number_set_sms_registered(phone_number=phone, registered=False, user=owner)
    with pytest.raises(ValidationError, match="“Texter” sends an SMS"):
        services.callflow_rollback(call_flow=phone.call_flow, version=first, user=owner)
    assert phone.call_flow.versions.count() == 2


def test_unregistering_while_live_jobs_send_sms_is_refused(phone, sona, owner, sms_job):
    services.phone_number_set_sms_registered(phone_number=phone, registered=True, user=owner)
    attach(sona, [sms_job], owner)
    services.callflow_publish(call_flow=phone.call_flow, user=owner)
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError, match="The live call flow still sends SMS"):
        services.phone_number_set_sms_registered(phone_number=phone, registered=False, user=owner)
    assert PhoneNumber.objects.get(pk=phone.pk).sms_registered is True
    assert AuditEvent.objects.count() == events


def test_sms_registration_is_audited(phone, owner):
    services.phone_number_set_sms_registered(phone_number=phone, registered=True, user=owner)
    event = AuditEvent.objects.latest("pk")
    assert event.action == "number.sms_registration_changed" and event.details["after"] is True
    # Setting it to what it is already writes nothing.
    services.phone_number_set_sms_registered(phone_number=phone, registered=True, user=owner)
    assert AuditEvent.objects.latest("pk") == event


def test_action_problems_lists_broken_markers_of_the_draft(workspace, phone, sona, owner):
    rosa = MembershipFactory(workspace=workspace, role=Role.MEMBER, user__email="r@example.test")
    job = js.job_create(
        workspace=workspace,
        user=owner,
        data=texts("[[Transfer call: member r@example.test]]", "To Rosa"),
    )
    attach(sona, [job], owner)
    snapshot = build_snapshot(phone.call_flow)
    assert checks.action_problems(phone.call_flow, snapshot) == []
    rosa.delete()  # gone behind the services' back
    assert [p.message for p in checks.action_problems(phone.call_flow, snapshot)] == [
        "“To Rosa”: “[[Transfer call: member r@example.test]]”: "
        "no member of this workspace has the email r@example.test."
    ]
    with pytest.raises(ValidationError, match="“To Rosa”: “\\[\\[Transfer call"):
        services.callflow_publish(call_flow=phone.call_flow, user=owner)


def test_publish_page_shows_the_sms_refusal(owner_client, phone, sona, owner, sms_job):
    attach(sona, [sms_job], owner)
    response = owner_client.post(
        reverse("callflows:publish", args=[phone.pk]), {"note": ""}, follow=True
    )
    assert "not registered for SMS" in response.text
    assert not phone.call_flow.versions.exists()


def test_number_page_toggles_sms_registration(owner_client, phone):
    page = owner_client.get(reverse("callflows:editor", args=[phone.pk])).text
    assert '<label for="sms_registered">SMS registered</label>' in page
    response = owner_client.post(
        reverse("callflows:sms", args=[phone.pk]), {"sms_registered": "on"}
    )
    assert response.status_code == 302
    assert PhoneNumber.objects.get(pk=phone.pk).sms_registered is True
    owner_client.post(reverse("callflows:sms", args=[phone.pk]), {})
    assert PhoneNumber.objects.get(pk=phone.pk).sms_registered is False


def test_member_cannot_toggle_sms_registration(member_client, phone):
    response = member_client.post(
        reverse("callflows:sms", args=[phone.pk]), {"sms_registered": "on"}
    )
    assert response.status_code == 403
    assert PhoneNumber.objects.get(pk=phone.pk).sms_registered is False


def test_admin_change_sets_sms_registration_through_the_service(staff_client, phone):
    response = staff_client.post(
        reverse("admin:callflows_phonenumber_change", args=[phone.pk]),
        {"display_name": phone.display_name, "sms_registered": "on", "_save": "Save"},
    )
    assert response.status_code == 302
    assert PhoneNumber.objects.get(pk=phone.pk).sms_registered is True
    assert AuditEvent.objects.filter(action="number.sms_registration_changed").count() == 1
    assert not AuditEvent.objects.filter(action="number.renamed").exists()


# Deleting a number a transfer names --------------------------------------------------------


def test_deleting_a_number_a_transfer_names_is_refused(workspace, phone, owner):
    js.job_create(
        workspace=workspace,
        user=owner,
        data=texts("[[Transfer call: number (555) 555-0123]]", "To main"),
    )
    with pytest.raises(ValidationError, match="cannot be deleted: “To main” transfer calls"):
        services.phone_number_delete(phone_number=phone, user=owner)
    assert PhoneNumber.objects.filter(pk=phone.pk).exists()


def test_number_delete_page_shows_the_refusal(owner_client, workspace, phone, owner):
    js.job_create(
        workspace=workspace, user=owner, data=texts("[[Transfer call: number +15555550123]]", "X")
    )
    response = owner_client.post(reverse("callflows:delete", args=[phone.pk]))
    assert response.status_code == 302
    assert any("cannot be deleted" in m for m in messages_of(response))
    assert PhoneNumber.objects.filter(pk=phone.pk).exists()


def test_admin_delete_shows_the_refusal(staff_client, workspace, phone, owner):
    js.job_create(
        workspace=workspace, user=owner, data=texts("[[Transfer call: number +15555550123]]", "X")
    )
    url = reverse("admin:callflows_phonenumber_delete", args=[phone.pk])
    response = staff_client.post(url, {"post": "yes"}, follow=True)
    assert "cannot be deleted" in response.text
    assert PhoneNumber.objects.filter(pk=phone.pk).exists()


def test_a_deleted_job_does_not_block_deleting_the_number(workspace, phone, owner):
    job = js.job_create(
        workspace=workspace, user=owner, data=texts("[[Transfer call: number +15555550123]]", "X")
    )
    js.job_delete(job=job, user=owner)
    services.phone_number_delete(phone_number=phone, user=owner)
    assert not PhoneNumber.objects.live().filter(pk=phone.pk).exists()


# The runtime API ---------------------------------------------------------------------------


def test_live_api_serves_parsed_actions(client, workspace, owner, phone, sona):
    MembershipFactory(workspace=workspace, role=Role.MEMBER, user__email="rosa@example.test")
    other = services.phone_number_create(
        workspace=workspace, number="+15555550124", display_name="Support", user=owner
    )
    services.phone_number_set_sms_registered(phone_number=phone, registered=True, user=owner)
    text = (
        f"1. {SMS}\n2. [[Transfer call: member Rosa@example.test | say: Connecting you to Rosa]]\n"
        f"3. [[Transfer call: number (555) 555-0124]]\n4. [[Transfer call: external +44 20 7946 0958]]"
    )
    job = js.job_create(workspace=workspace, user=owner, data=texts(text, "All"))
    attach(sona, [job, JobFactory(workspace=workspace)], owner)
    services.callflow_publish(call_flow=phone.call_flow, user=owner)
    token = api_token_create(workspace=workspace, name="rt", user=owner).raw
    data = client.get(
        reverse("api:live", args=[phone.number]), HTTP_AUTHORIZATION=f"Bearer {token}"
    ).json()
    first, plain = data["steps"][0]["jobs"]
    assert first["instructions"] == text and plain["actions"] == []
    assert first["actions"] == [
        {"type": "send_sms", "message": "Track your visit at https://acme.test/t", "say": None},
        {
            "type": "transfer_call",
            "to": "member",
            "member": "rosa@example.test",
            "number": None,
            "say": "Connecting you to Rosa",
        },
        {"type": "transfer_call", "to": "number", "number": other.number, "say": None},
        {"type": "transfer_call", "to": "external", "number": "+442079460958", "say": None},
    ]
    # A job edit is live at once, actions included.
    js.job_update(job=job, user=owner, data={"instructions": "[[Send SMS: New text]]"})
    data = client.get(
        reverse("api:live", args=[phone.number]), HTTP_AUTHORIZATION=f"Bearer {token}"
    ).json()
    assert data["steps"][0]["jobs"][0]["actions"] == [
        {"type": "send_sms", "message": "New text", "say": None}
    ]
    assert not Job.objects.filter(pk=job.pk, deleted_at__isnull=False).exists()


@pytest.mark.usefixtures("long_lease")
def test_actions_keep_the_api_at_3_queries_on_a_miss_and_0_on_a_hit(
    client, workspace, owner, phone, sona, django_assert_num_queries
):
    MembershipFactory(workspace=workspace, role=Role.MEMBER, user__email="rosa@example.test")
    jobs = [
        js.job_create(
            workspace=workspace,
            user=owner,
            data=texts(
                f"[[Transfer call: member rosa@example.test]] [[Transfer call: external +1555555{i:04d}]]",
                f"J{i}",
            ),
        )
        for i in range(10)
    ]
    attach(sona, jobs, owner)
    services.callflow_publish(call_flow=phone.call_flow, user=owner)
    token = api_token_create(workspace=workspace, name="rt", user=owner).raw
    url = reverse("api:live", args=[phone.number])
    with django_assert_num_queries(3):  # token and generation, number, its jobs
        response = client.get(url, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert len(response.json()["steps"][0]["jobs"][9]["actions"]) == 2
    with django_assert_num_queries(0):
        client.get(url, HTTP_AUTHORIZATION=f"Bearer {token}")


def test_an_edit_cannot_make_a_live_job_send_sms_from_an_unregistered_number(
    workspace, phone, sona, owner
):
    job = js.job_create(workspace=workspace, user=owner, data=texts("1. Help.", "Helper"))
    attach(sona, [job], owner)
    services.callflow_publish(call_flow=phone.call_flow, user=owner)
    with pytest.raises(ValidationError) as refused:
        js.job_update(job=job, user=owner, data={"instructions": f"1. Help. {SMS}"})
    assert (
        "“Helper” is live on Main line (+15555550123), which is not registered for SMS"
        in (refused.value.message_dict["instructions"][0])
    )
    job.refresh_from_db()
    assert job.instructions == "1. Help." and job.revision == 1
    # The same through an import (ids only), and allowed once the number is registered.
    with pytest.raises(ValidationError, match="not registered for SMS"):
        js.job_import(
            workspace=workspace,
            user=owner,
            records=[{"name": "Helper", "instructions": f"1. Help. {SMS}"}],
        )
    services.phone_number_set_sms_registered(phone_number=phone, registered=True, user=owner)
    js.job_update(job=job, user=owner, data={"instructions": f"1. Help. {SMS}"})
    assert SMS in Job.objects.get(pk=job.pk).instructions
