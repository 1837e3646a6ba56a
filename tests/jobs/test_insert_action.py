"""The job editor's friendly action picker: members by name, numbers by display name, no
marker syntax in the hints; the option values are what static/js/app.js writes into the marker."""

import pytest
from django.urls import reverse

from jobs import actions
from tests.factories import JobFactory, MembershipFactory, PhoneNumberFactory
from workspaces.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(workspace):
    MembershipFactory(
        workspace=workspace,
        role=Role.MEMBER,
        user__email="Rosa@Example.test",
        user__full_name="Rosa Diaz",
    )
    MembershipFactory(
        workspace=workspace, role=Role.MEMBER, user__email="noname@example.test", user__full_name=""
    )
    PhoneNumberFactory(workspace=workspace, number="+15555550100", display_name="Main line")
    PhoneNumberFactory(workspace=workspace, number="+15555550101", display_name="After hours")
    # Another workspace's people and numbers are never offered.
    MembershipFactory(
        role=Role.OWNER, user__email="stranger@example.test", user__full_name="Stranger"
    )
    PhoneNumberFactory(number="+15555550199", display_name="Their line")


def picker(client, url):
    text = client.get(url).text
    return text, text.split('<div class="insert-action">', 1)[1].split("</fieldset>\n  </div>", 1)[
        0
    ]


def test_transfer_offers_members_by_name_and_numbers_by_display_name(owner_client, team):
    text, panel = picker(owner_client, reverse("jobs:create"))
    assert '<option value="member rosa@example.test">Rosa Diaz</option>' in panel
    assert '<option value="member noname@example.test">noname@example.test</option>' in panel
    assert '<option value="number +15555550101">After hours (+15555550101)</option>' in panel
    assert '<option value="number +15555550100">Main line (+15555550100)</option>' in panel
    assert panel.index("After hours") < panel.index("Main line")  # by display name
    assert "Stranger" not in panel and "Their line" not in panel
    assert '<option value="external">Another number (type it below)</option>' in panel
    assert '<label for="action-transfer-say">What Sona says first (optional)</label>' in panel
    assert '<label for="action-sms-say">What Sona says as it sends (optional)</label>' in panel
    assert "<legend>Send SMS to the caller</legend>" in panel
    assert "<legend>Transfer the call</legend>" in panel


def test_no_marker_syntax_in_the_hints(owner_client, workspace, team):
    job = JobFactory(workspace=workspace)
    for url in (reverse("jobs:create"), reverse("jobs:edit", args=[job.pk])):
        text = owner_client.get(url).text
        assert "EMAIL" not in text and "+1…" not in text and "[[Transfer call:" not in text
        assert "use “Insert action” below the instructions" in text


def test_the_offered_values_make_valid_markers(workspace, team):
    """What the picker offers, written as app.js writes it, is a marker the service accepts."""
    from jobs import selectors

    targets = selectors.action_targets(workspace=workspace)
    context = selectors.action_context(workspace=workspace)
    for email, _ in targets["members"]:
        text = f"[[Transfer call: member {email} | say: One moment]]"
        assert actions.find_problems(text, context=context) == []
    for number, _ in targets["numbers"]:
        assert actions.find_problems(f"[[Transfer call: number {number}]]", context=context) == []
    sms = "[[Send SMS: Your booking is confirmed | say: I'll text you the details]]"
    assert actions.find_problems(sms, context=context) == []


def test_the_picker_costs_two_queries_whatever_the_team_size(
    owner_client, workspace, django_assert_max_num_queries
):
    from jobs import selectors

    for size in (2, 12):
        for _ in range(size):
            MembershipFactory(workspace=workspace, role=Role.MEMBER)
            PhoneNumberFactory(workspace=workspace)
        with django_assert_max_num_queries(2):
            targets = selectors.action_targets(workspace=workspace)
        assert len(targets["numbers"]) >= size
