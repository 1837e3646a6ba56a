"""The Activity page (owners and admins) and the audit log in the admin (support staff)."""

import re

import pytest
from django.urls import reverse

from callflows import services as cf
from jobs import services as js
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory
from tests.test_roles import PROSE
from workspaces import audit
from workspaces.models import AuditEvent, Role
from workspaces.permissions import staff_support
from workspaces.services import api_token_create, membership_change_role

pytestmark = pytest.mark.django_db

URL = reverse("workspaces:activity")


def rows(response) -> list[str]:
    """The table rows' text, whitespace collapsed."""
    body = response.text.split("<tbody>")[1].split("</tbody>")[0]
    return [" ".join(row.split("</td>")[i] for i in range(5)) for row in body.split("<tr>")[1:]]


def test_members_are_refused_the_page(member_client):
    assert member_client.get(URL).status_code == 403


def test_anonymous_users_go_to_the_login_page(client):
    assert client.get(URL)["Location"].startswith(reverse("login"))


def test_header_links_activity_for_owners_and_admins_only(owner_client, client, member):
    link = (
        rf'href="{URL}"><span class="icon icon-activity" aria-hidden="true"></span>\s*Activity</a>'
    )
    assert re.search(link, owner_client.get(reverse("jobs:list")).text)
    client.force_login(member)
    assert not re.search(r">\s*Activity</a>", client.get(reverse("jobs:list")).text)


def test_admins_see_the_page(client, admin_user):
    client.force_login(admin_user)
    assert client.get(URL).status_code == 200


def test_a_publish_shows_who_what_versions_and_links_to_the_versions(owner_client, owner, phone):
    owner.full_name = "Olga Owner"
    owner.save()
    cf.callflow_publish(call_flow=phone.call_flow, user=owner, note="First")
    response = owner_client.get(URL)
    first = response.text.split("<tbody>")[1].split("</tr>")[0]
    assert "Olga Owner" in first and "published" in first
    assert "version – → 1: “First”" in first
    assert (
        f'href="{reverse("callflows:versions", args=[phone.pk])}">Version 1 of Main line</a>'
        in first
    )


def test_newest_first(owner_client, owner, workspace):
    for name in ("First", "Second"):
        js.job_create(workspace=workspace, user=owner, data={"name": name, "instructions": "x"})
    text = owner_client.get(URL).text
    assert text.index(">Second</a>") < text.index(">First</a>")


def test_an_edit_links_to_the_two_versions_side_by_side(owner_client, owner, workspace):
    job = js.job_create(workspace=workspace, user=owner, data={"name": "A", "instructions": "x"})
    js.job_update(job=job, user=owner, data={"instructions": "y"})
    event = AuditEvent.objects.get(action="job.edited")
    compare = reverse("jobs:compare", args=[job.pk])
    link = f"{compare}?a={event.details['before']}&amp;b={event.details['after']}"
    text = owner_client.get(URL).text
    assert f'href="{link}">A</a>' in text
    assert "changed instructions" in text
    # The link opens the diff of the two versions.
    assert (
        owner_client.get(
            compare, {"a": event.details["before"], "b": event.details["after"]}
        ).status_code
        == 200
    )


def test_a_deleted_object_is_named_without_a_link(owner_client, owner, phone):
    cf.phone_number_delete(phone_number=phone, user=owner)
    text = owner_client.get(URL).text
    assert "deleted a phone number" in text
    assert '<td data-label="Object">Main line (+15555550123)</td>' in text


def test_support_actions_carry_a_badge(owner_client, staff, workspace):
    with staff_support(staff):
        api_token_create(workspace=workspace, name="Runtime", user=staff)
    assert '<span class="badge">support</span>' in owner_client.get(URL).text


def test_a_refused_attempt_is_listed(owner_client, member, phone, client):
    member.full_name = "Mia Member"
    member.save()
    with pytest.raises(Exception):
        cf.callflow_publish(call_flow=phone.call_flow, user=member)
    text = owner_client.get(URL).text
    assert "Mia Member" in text and "was refused" in text and "tried to publish call flows" in text


def test_other_workspaces_events_are_not_shown(owner_client):
    other = WorkspaceFactory()
    other_owner = MembershipFactory(workspace=other, role=Role.OWNER).user
    js.job_create(workspace=other, user=other_owner, data={"name": "Theirs", "instructions": "x"})
    assert "Theirs" not in owner_client.get(URL).text


@pytest.fixture
def events(workspace, owner, admin_user):
    owner.full_name, admin_user.full_name = "Olga", "Adam"
    owner.save()
    admin_user.save()
    js.job_create(workspace=workspace, user=owner, data={"name": "Booking", "instructions": "x"})
    js.job_create(
        workspace=workspace, user=admin_user, data={"name": "Refunds", "instructions": "x"}
    )
    api_token_create(workspace=workspace, name="Runtime", user=owner)


def test_filter_by_person(owner_client, admin_user, events):
    text = owner_client.get(URL, {"person": admin_user.pk}).text
    assert ">Refunds</a>" in text and ">Booking</a>" not in text


def test_filter_by_action_in_words(owner_client, events):
    response = owner_client.get(URL, {"action": "token.created"})
    assert ">Runtime</a>" in response.text and ">Booking</a>" not in response.text
    assert '<option value="token.created" selected>created an API token</option>' in response.text


def test_filter_by_object_type_and_label(owner_client, events):
    text = owner_client.get(URL, {"object": "job", "q": "book"}).text
    assert ">Booking</a>" in text and ">Refunds</a>" not in text and ">Runtime</a>" not in text


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"person": "999999"}, "person"),
        ({"action": "job.frobbed"}, "action"),
        ({"person": "x"}, "person"),
        ({"object": "nope"}, "object"),
    ],
)
def test_a_bad_filter_is_an_error_next_to_it_and_ignored(owner_client, events, params, field):
    response = owner_client.get(URL, params)
    assert response.status_code == 200
    assert 'class="error" role="alert">Select a valid choice.' in response.text
    assert response.context["form"].errors.keys() == {field}
    assert ">Booking</a>" in response.text  # the other filters (none) still apply


def test_a_person_who_is_no_member_cannot_be_picked(owner_client, events):
    outsider = UserFactory()
    assert "Select a valid choice" in owner_client.get(URL, {"person": outsider.pk}).text


def test_pages_keep_the_filters(owner_client, owner, workspace, monkeypatch):
    monkeypatch.setattr("workspaces.views.ACTIVITY_PAGE_SIZE", 2)
    for i in range(5):
        js.job_create(workspace=workspace, user=owner, data={"name": f"J{i}", "instructions": "x"})
    text = owner_client.get(URL, {"action": "job.created"}).text
    assert "Page 1 of 3" in text
    assert 'href="?action=job.created&amp;page=2" rel="next"' in text
    assert "Page 3 of 3" in owner_client.get(URL, {"action": "job.created", "page": 3}).text


def _fill(workspace, owner, phone, n):
    """n events of every kind the page links (jobs, versions, steps, numbers, tokens, members)."""
    for i in range(n):
        job = js.job_create(
            workspace=workspace, user=owner, data={"name": f"Job {i}", "instructions": PROSE}
        )
        js.job_update(job=job, user=owner, data={"description": f"v{i}"})
        cf.step_attach_job(step=phone.call_flow.steps.get(), job=job, user=owner)
        cf.callflow_publish(call_flow=phone.call_flow, user=owner)
        cf.phone_number_rename(phone_number=phone, display_name=f"Line {i}", user=owner)
        api_token_create(workspace=workspace, name=f"T{i}", user=owner)
        membership = MembershipFactory(workspace=workspace, role=Role.MEMBER)
        membership_change_role(membership=membership, role=Role.ADMIN, user=owner)


@pytest.mark.parametrize("n", [1, 8])
def test_query_count_does_not_grow_with_the_events(
    owner_client, owner, workspace, phone, n, django_assert_max_num_queries
):
    _fill(workspace, owner, phone, n)
    # session, user, membership, header (memberships), people, count, events, and one query
    # per linked object type (jobs, steps, versions, numbers, tokens, members)
    with django_assert_max_num_queries(13):
        response = owner_client.get(URL)
    # the header row, then the number's creation and seven events per round, 50 a page
    assert response.text.count("<tr>") == 1 + min(1 + 7 * n, 50)


# Admin ---------------------------------------------------------------------------------------

ADMIN = "admin:workspaces_auditevent_changelist"


def test_staff_read_events_across_workspaces(staff_client, owner, workspace):
    other = WorkspaceFactory(name="Other Co")
    other_owner = MembershipFactory(workspace=other, role=Role.OWNER).user
    js.job_create(workspace=workspace, user=owner, data={"name": "Ours", "instructions": "x"})
    js.job_create(workspace=other, user=other_owner, data={"name": "Theirs", "instructions": "x"})
    text = staff_client.get(reverse(ADMIN)).text
    assert "job: Ours" in text and "job: Theirs" in text


def test_admin_filters_and_search(staff_client, owner, workspace, events):
    assert "job: Booking" not in staff_client.get(reverse(ADMIN), {"action": "token.created"}).text
    text = staff_client.get(reverse(ADMIN), {"q": owner.email}).text
    assert "job: Booking" in text and "job: Refunds" not in text
    text = staff_client.get(reverse(ADMIN), {"workspace__id__exact": workspace.pk}).text
    assert "job: Booking" in text


def test_admin_is_read_only(staff_client, owner, workspace):
    event = audit.record(user=owner, workspace=workspace, action="job.created", label="X")
    change = reverse("admin:workspaces_auditevent_change", args=[event.pk])
    assert staff_client.get(change).status_code == 200  # viewing is fine
    assert staff_client.post(change, {"action": "job.deleted"}).status_code == 403
    assert staff_client.get(reverse("admin:workspaces_auditevent_add")).status_code == 403
    delete = reverse("admin:workspaces_auditevent_delete", args=[event.pk])
    assert staff_client.post(delete, {"post": "yes"}).status_code == 403
    changelist = staff_client.get(reverse(ADMIN)).text
    assert "delete_selected" not in changelist and "action-checkbox" not in changelist
    assert AuditEvent.objects.get().action == "job.created"
