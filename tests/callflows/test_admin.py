import pytest
from django.urls import reverse

from callflows import services
from callflows.models import CallFlowVersion, PhoneNumber, StepKind
from tests.factories import JobFactory, WorkspaceFactory
from workspaces.services import api_token_create

pytestmark = pytest.mark.django_db


def test_admin_pages_answer(staff_client, phone, owner, workspace):
    version = services.callflow_publish(call_flow=phone.call_flow, user=owner)
    token = api_token_create(workspace=workspace, name="rt", user=owner).token
    step = phone.call_flow.steps.get()
    for url in [
        reverse("admin:callflows_phonenumber_changelist"),
        reverse("admin:callflows_phonenumber_change", args=[phone.pk]),
        reverse("admin:callflows_callflow_change", args=[phone.call_flow.pk]),
        reverse("admin:callflows_callflowversion_changelist"),
        reverse("admin:callflows_callflowversion_change", args=[version.pk]),
        reverse("admin:callflows_step_change", args=[step.pk]),
        reverse("admin:workspaces_apitoken_changelist"),
        reverse("admin:workspaces_apitoken_change", args=[token.pk]),
    ]:
        response = staff_client.get(url)
        assert response.status_code == 200, url
        assert token.key_hash not in response.content.decode()


def test_admin_adds_number_through_service(staff_client):
    workspace = WorkspaceFactory()
    staff_client.post(
        reverse("admin:callflows_phonenumber_add"),
        {"workspace": workspace.pk, "number": "+1 555 555 0177", "display_name": "Support"},
    )
    phone = PhoneNumber.objects.get()
    assert phone.number == "+15555550177" and phone.call_flow.steps.count() == 1


def test_versions_read_only_and_publish_rollback_actions(
    staff_client, staff, phone, owner, workspace
):
    v1 = services.callflow_publish(call_flow=phone.call_flow, user=owner)
    sona = phone.call_flow.steps.get(kind=StepKind.SONA)
    services.step_attach_job(step=sona, job=JobFactory(workspace=workspace), user=owner)
    response = staff_client.post(
        reverse("admin:callflows_callflow_changelist"),
        {"action": "publish_draft", "_selected_action": [phone.call_flow.pk]},
        follow=True,
    )
    assert "published version 2" in response.content.decode()
    response = staff_client.post(
        reverse("admin:callflows_callflowversion_changelist"),
        {"action": "publish_again", "_selected_action": [v1.pk]},
        follow=True,
    )
    assert "version 1 is live again as version 3" in response.content.decode()
    latest = CallFlowVersion.objects.get(number=3)
    assert latest.published_by == staff and latest.rolled_back_from == 1
    # Immutable in the admin: no change, no delete.
    assert (
        staff_client.post(
            reverse("admin:callflows_callflowversion_change", args=[v1.pk]), {"note": "x"}
        ).status_code
        == 403
    )
    assert (
        staff_client.post(
            reverse("admin:callflows_callflowversion_delete", args=[v1.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    v1.refresh_from_db()
    assert v1.note == ""


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("+1abc1234567", "“+1abc1234567” is not a phone number."),
        ("", "Enter a phone number, e.g. +15551234567."),
        ("12", "“12” is not a phone number."),
        ("\x00", "contains a character that cannot be stored"),
        ("+1 555 555 0100 ext 12", "has an extension"),
        ("+15555550123", "+15555550123 is already in use."),
    ],
)
def test_admin_bad_number_is_a_form_error_and_saves_nothing(staff_client, phone, raw, message):
    response = staff_client.post(
        reverse("admin:callflows_phonenumber_add"),
        {"workspace": phone.workspace.pk, "number": raw, "display_name": "Support"},
    )
    if "\x00" in raw:  # refused before the admin, by the one middleware for every page
        assert response.status_code == 400 and message in response.text
    else:
        assert response.status_code == 200
        errors = response.context["adminform"].form.errors
        assert any(message in e for e in errors["number"]), errors
    assert list(PhoneNumber.objects.values_list("number", flat=True)) == ["+15555550123"]


def test_admin_reads_a_national_number_in_the_workspace_country(staff_client):
    workspace = WorkspaceFactory(country="GB")
    response = staff_client.post(
        reverse("admin:callflows_phonenumber_add"),
        {"workspace": workspace.pk, "number": "020 7946 0958", "display_name": "London"},
    )
    assert response.status_code == 302
    assert PhoneNumber.objects.get(workspace=workspace).number == "+442079460958"


def test_admin_rename_with_a_bad_name_is_a_form_error(staff_client, phone):
    url = reverse("admin:callflows_phonenumber_change", args=[phone.pk])
    for name in ["", "x" * 101]:  # NUL: refused by the middleware (tests/workspaces)
        response = staff_client.post(url, {"display_name": name})
        assert response.status_code == 200
        assert "display_name" in response.context["adminform"].form.errors
    phone.refresh_from_db()
    assert phone.display_name == "Main line"
