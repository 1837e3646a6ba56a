"""The workspace's time zone: the service, the Settings page, the admin and the database."""

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from tests.conftest import workspace_admin_post
from tests.factories import CallFactory, MembershipFactory
from workspaces import services
from workspaces.models import AuditEvent, Role, Workspace
from workspaces.permissions import RoleRequired

pytestmark = pytest.mark.django_db
URL = reverse("workspaces:settings")


@pytest.fixture(autouse=True)
def zoneless(workspace):
    """The factory's workspaces are in UTC; these tests start from no zone of its own."""
    Workspace.objects.filter(pk=workspace.pk).update(time_zone="")
    workspace.time_zone = ""


def test_without_its_own_zone_a_workspace_is_in_its_countrys_main_zone(workspace):
    workspace.country = "GB"
    assert workspace.time_zone == "" and workspace.zone == "Europe/London"
    workspace.country = "AQ"  # several zones: the table lists the main one first
    assert workspace.zone
    workspace.time_zone = "Asia/Tokyo"
    assert workspace.zone == "Asia/Tokyo"


def test_the_owner_sets_and_clears_the_zone_with_one_event_each(workspace, owner):
    services.workspace_set_time_zone(workspace=workspace, time_zone=" Asia/Tokyo ", user=owner)
    workspace.refresh_from_db()
    assert workspace.time_zone == "Asia/Tokyo"
    services.workspace_set_time_zone(workspace=workspace, time_zone="Asia/Tokyo", user=owner)
    services.workspace_set_time_zone(workspace=workspace, time_zone="", user=owner)
    workspace.refresh_from_db()
    assert workspace.time_zone == ""
    events = AuditEvent.objects.filter(action="workspace.time_zone_changed").order_by("pk")
    assert [e.details for e in events] == [  # the same value again records nothing
        {"before": None, "after": "Asia/Tokyo"},
        {"before": "Asia/Tokyo", "after": None},
    ]
    assert {e.actor for e in events} == {owner}


@pytest.mark.parametrize("zone", ["London", "Mars/Olympus_Mons", "europe/london", "x" * 65])
def test_an_unknown_zone_is_refused_and_nothing_changes(workspace, owner, zone):
    with pytest.raises(ValidationError) as refused:
        services.workspace_set_time_zone(workspace=workspace, time_zone=zone, user=owner)
    assert "is not a known time zone" in refused.value.message_dict["time_zone"][0]
    workspace.refresh_from_db()
    assert workspace.time_zone == ""
    assert not AuditEvent.objects.filter(action="workspace.time_zone_changed").exists()


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MEMBER])
def test_only_owners_change_the_zone(workspace, role):
    user = MembershipFactory(workspace=workspace, role=role).user
    with pytest.raises(RoleRequired):
        services.workspace_set_time_zone(workspace=workspace, time_zone="Asia/Tokyo", user=user)
    workspace.refresh_from_db()
    assert workspace.time_zone == ""


def test_the_database_refuses_a_zone_of_the_wrong_shape(workspace):
    for bad in ("Europe London", "/Europe", "Europe/", "a;drop"):
        with pytest.raises(IntegrityError), transaction.atomic():
            Workspace.objects.filter(pk=workspace.pk).update(time_zone=bad)
    Workspace.objects.filter(pk=workspace.pk).update(time_zone="UTC")  # one segment is a shape


# The Settings page --------------------------------------------------------------------------


def test_settings_page_offers_the_zone_first_and_saves_it(owner_client, workspace):
    workspace.country = "GB"
    workspace.save(update_fields=["country"])
    page = owner_client.get(URL).text
    assert '<label for="id_time_zone">Time zone</label>' in page
    assert 'list="time-zone-options"' in page and ">Save time zone</button>" in page
    options = page.split('<datalist id="time-zone-options">', 1)[1].split("</datalist>", 1)[0]
    assert options.startswith('<option value="Europe/London"></option>')
    response = owner_client.post(URL, {"section": "time_zone", "time_zone": "Asia/Tokyo"})
    assert response.status_code == 302
    workspace.refresh_from_db()
    assert workspace.time_zone == "Asia/Tokyo" and workspace.call_retention_days == 365
    assert "Time zone saved: Asia/Tokyo." in owner_client.get(URL).text
    page = owner_client.get(URL).text
    options = page.split('<datalist id="time-zone-options">', 1)[1].split("</datalist>", 1)[0]
    assert options.startswith(
        '<option value="Asia/Tokyo"></option><option value="Europe/London"></option>'
    )


def test_a_bad_zone_is_shown_next_to_the_field_with_what_was_typed(owner_client, workspace):
    response = owner_client.post(URL, {"section": "time_zone", "time_zone": "Atlantis/Capital"})
    assert response.status_code == 200
    errors = response.context["zone_form"].errors["time_zone"]
    assert errors[0].startswith("“Atlantis/Capital” is not a known time zone")
    assert 'value="Atlantis/Capital"' in response.text
    workspace.refresh_from_db()
    assert workspace.time_zone == ""


def test_a_post_naming_no_form_saves_nothing(owner_client, workspace):
    response = owner_client.post(URL, {"time_zone": "Asia/Tokyo", "call_retention_days": "9"})
    assert response.status_code == 200
    assert "Nothing was saved" in response.text
    workspace.refresh_from_db()
    assert (workspace.time_zone, workspace.call_retention_days) == ("", 365)


def test_an_admin_sees_the_zone_and_is_refused_on_post(client, workspace):
    client.force_login(MembershipFactory(workspace=workspace, role=Role.ADMIN).user)
    workspace.country = "US"
    workspace.save(update_fields=["country"])
    page = client.get(URL).text
    assert "America/New_York (the country's main zone)" in page
    assert "Save time zone" not in page and "Only owners can change the time zone." in page
    response = client.post(URL, {"section": "time_zone", "time_zone": "Asia/Tokyo"})
    assert response.status_code == 403
    workspace.refresh_from_db()
    assert workspace.time_zone == ""


# Admin -------------------------------------------------------------------------------------


def test_support_sets_the_zone_through_the_service(staff_client, staff, workspace):
    assert (
        workspace_admin_post(staff_client, workspace, time_zone="Europe/Paris").status_code == 302
    )
    workspace.refresh_from_db()
    assert workspace.time_zone == "Europe/Paris"
    event = AuditEvent.objects.get(action="workspace.time_zone_changed")
    assert (event.actor, event.via_support) == (staff, True)


def test_support_gets_the_services_message_for_a_bad_zone(staff_client, workspace):
    response = workspace_admin_post(staff_client, workspace, time_zone="Europe/Atlantis")
    assert response.status_code == 200
    assert "is not a known time zone" in response.text
    workspace.refresh_from_db()
    assert workspace.time_zone == ""


# Pages show times in the workspace's zone ----------------------------------------------------


@pytest.mark.parametrize(
    ("time_zone", "country", "shown"),
    [
        ("Asia/Tokyo", "US", "Mar 11, 2026 00:30"),  # its own zone
        ("", "GB", "Mar 10, 2026 15:30"),  # none: its country's main zone (London, GMT)
        ("", "US", "Mar 10, 2026 11:30"),  # New York, daylight saving time
    ],
)
def test_pages_show_times_in_the_workspace_zone(
    owner_client, workspace, phone, time_zone, country, shown
):
    workspace.time_zone, workspace.country = time_zone, country
    workspace.save(update_fields=["time_zone", "country"])
    call = CallFactory(phone_number=phone, started_at=datetime(2026, 3, 10, 15, 30, tzinfo=UTC))
    zone = time_zone or {"GB": "Europe/London", "US": "America/New_York"}[country]
    for url in (reverse("calls:list"), reverse("calls:detail", args=[call.pk])):
        text = owner_client.get(url).text
        assert f">{shown}" in text, url
        assert f'Times are in {zone} (<a href="{URL}">change the time zone</a>).' in text
    # The request's zone does not leak into the next request of another workspace.
    assert timezone.get_current_timezone_name() == "UTC"


def test_a_member_is_told_the_zone_without_a_link_to_change_it(member_client, workspace):
    text = member_client.get(reverse("calls:list")).text
    assert "Times are in America/New_York." in text  # no zone of its own, country US
