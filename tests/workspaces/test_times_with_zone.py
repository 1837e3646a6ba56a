"""Times are shown with their zone (issue 24, point 6): the invitation page (often opened by
someone with no account, so with no workspace zone of their own), its email, and the pages
that list times."""

from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.template import Context, Template
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.workspaces.test_invitations import invite

pytestmark = pytest.mark.django_db


def expected(invitation, zone):
    local = timezone.localtime(invitation.expires_at, ZoneInfo(zone))
    return f"{local:%b} {local.day}, {local:%Y %H:%M} ({zone})"


def test_invitation_page_and_email_show_the_expiry_in_the_workspace_zone(workspace, owner):
    workspace.time_zone = "America/Chicago"
    workspace.save()
    invitation, token = invite(workspace, owner)
    when = expected(invitation, "America/Chicago")
    [message] = mail.outbox
    assert f"expires on {when}." in message.body
    assert f"expires on {when}." in message.alternatives[0][0]
    # Opened by the invitee, logged out: still the workspace's zone, and it says which.
    page = Client().get(reverse("invitation", args=[token])).content.decode()
    assert f"The invitation expires on {when}." in page


def test_invitations_list_says_which_zone_its_times_are_in(owner_client, workspace, owner):
    workspace.time_zone = "Asia/Tokyo"
    workspace.save()
    invite(workspace, owner)
    page = owner_client.get(reverse("workspaces:invitations")).content.decode()
    assert "Times are in Asia/Tokyo" in page


def test_tokens_page_says_which_zone_its_times_are_in(owner_client, workspace):
    workspace.time_zone = "Europe/Paris"
    workspace.save()
    page = owner_client.get(reverse("workspaces:tokens")).content.decode()
    assert "Times are in Europe/Paris" in page


def test_zoned_filter_names_the_zone_and_survives_an_unknown_one():
    moment = timezone.now().replace(year=2026, month=1, day=2, hour=12, minute=5)
    render = Template("{% load times %}{{ t|zoned }}|{{ t|zoned:z }}|{{ t|zoned:bad }}").render
    with timezone.override(ZoneInfo("UTC")):
        text = render(Context({"t": moment, "z": "Europe/Paris", "bad": "Nowhere/Else"}))
    assert (
        text == "Jan 2, 2026 12:05 (UTC)|Jan 2, 2026 13:05 (Europe/Paris)|Jan 2, 2026 12:05 (UTC)"
    )
