"""The support admin for users, workspaces and memberships, and its paginator."""

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.paginators import EstimatedCountPaginator
from jobs.models import Job
from tests.conftest import messages_of
from tests.factories import PASSWORD, JobFactory, MembershipFactory, UserFactory
from workspaces.models import Membership, Role, User, Workspace

pytestmark = pytest.mark.django_db

LAST_OWNER_DEMOTE = "The last owner cannot be demoted. Make someone else an owner first."
LAST_OWNER_REMOVE = "The last owner cannot be removed. Make someone else an owner first."


# Users -----------------------------------------------------------------------------------


def test_user_pages_answer(staff_client, owner):
    for url in (
        reverse("admin:workspaces_user_changelist"),
        reverse("admin:workspaces_user_add"),
        reverse("admin:workspaces_user_change", args=[owner.pk]),
    ):
        assert staff_client.get(url).status_code == 200, url


def test_user_changelist_search(staff_client, db):
    UserFactory(email="ann@example.test", full_name="Ann Smith")
    UserFactory(email="bob@example.test")

    response = staff_client.get(reverse("admin:workspaces_user_changelist"), {"q": "smith"})

    assert [u.email for u in response.context["cl"].result_list] == ["ann@example.test"]


def test_add_user_with_email_and_password(staff_client, db):
    response = staff_client.post(
        reverse("admin:workspaces_user_add"),
        {"email": "New.Person@Example.test", "password1": PASSWORD, "password2": PASSWORD},
    )

    assert response.status_code == 302
    user = User.objects.get(email__iexact="new.person@example.test")
    assert response.url == reverse("admin:workspaces_user_change", args=[user.pk])
    assert user.check_password(PASSWORD)
    assert user.is_active and not user.is_staff and not user.is_superuser


def test_add_user_with_mismatched_passwords_creates_nothing(staff_client, db):
    before = User.objects.count()

    response = staff_client.post(
        reverse("admin:workspaces_user_add"),
        {"email": "new@example.test", "password1": PASSWORD, "password2": PASSWORD + "!"},
    )

    assert response.status_code == 200
    assert "password2" in response.context["adminform"].form.errors
    assert User.objects.count() == before


def test_add_user_with_a_taken_email_creates_nothing(staff_client, db):
    UserFactory(email="ann@example.test")
    before = User.objects.count()

    response = staff_client.post(
        reverse("admin:workspaces_user_add"),
        {"email": "ann@example.test", "password1": PASSWORD, "password2": PASSWORD},
    )

    assert response.status_code == 200
    assert "email" in response.context["adminform"].form.errors
    assert User.objects.count() == before


# Workspaces ------------------------------------------------------------------------------


def test_workspace_pages_answer(staff_client, workspace, owner):
    for url in (
        reverse("admin:workspaces_workspace_changelist"),
        reverse("admin:workspaces_workspace_add"),
        reverse("admin:workspaces_workspace_change", args=[workspace.pk]),
        reverse("admin:workspaces_membership_changelist"),
        reverse("admin:workspaces_membership_change", args=[owner.memberships.get().pk]),
    ):
        assert staff_client.get(url).status_code == 200, url


def test_workspace_change_page_shows_members_read_only(staff_client, workspace, owner):
    response = staff_client.get(reverse("admin:workspaces_workspace_change", args=[workspace.pk]))

    assert owner.email in response.content.decode()
    assert 'name="memberships-0-role"' not in response.content.decode()


# Memberships -----------------------------------------------------------------------------


def change_role(client, membership, role):
    return client.post(
        reverse("admin:workspaces_membership_change", args=[membership.pk]),
        {
            "user": membership.user_id,
            "workspace": membership.workspace_id,
            "role": role,
            "_save": "Save",
        },
        follow=True,
    )


def test_demoting_the_last_owner_is_refused(staff_client, workspace, owner):
    membership = Membership.objects.get(user=owner, workspace=workspace)

    response = change_role(staff_client, membership, Role.ADMIN)

    assert response.status_code == 200
    assert LAST_OWNER_DEMOTE in response.content.decode()  # a form error
    membership.refresh_from_db()
    assert membership.role == Role.OWNER


def test_refused_demotion_is_not_reported_as_a_success(staff_client, workspace, owner):
    membership = Membership.objects.get(user=owner, workspace=workspace)

    response = change_role(staff_client, membership, Role.MEMBER)

    assert not any("successfully" in m for m in messages_of(response))
    assert not LogEntry.objects.filter(object_id=str(membership.pk)).exists()


def test_demoting_one_of_two_owners_works(staff_client, workspace, owner):
    second = MembershipFactory(workspace=workspace, role=Role.OWNER)

    response = change_role(staff_client, second, Role.MEMBER)

    assert response.status_code == 200
    assert not any("cannot" in m for m in messages_of(response))
    second.refresh_from_db()
    assert second.role == Role.MEMBER
    assert Membership.objects.get(user=owner, workspace=workspace).role == Role.OWNER


def test_promoting_a_member_works(staff_client, workspace, owner, member):
    membership = Membership.objects.get(user=member, workspace=workspace)

    change_role(staff_client, membership, Role.OWNER)

    membership.refresh_from_db()
    assert membership.role == Role.OWNER


def test_owners_of_other_workspaces_do_not_count(staff_client, workspace, owner, other_workspace):
    MembershipFactory(workspace=other_workspace, role=Role.OWNER)
    membership = Membership.objects.get(user=owner, workspace=workspace)

    response = change_role(staff_client, membership, Role.ADMIN)

    assert LAST_OWNER_DEMOTE in response.content.decode()
    membership.refresh_from_db()
    assert membership.role == Role.OWNER


def test_deleting_the_last_owner_is_refused(staff_client, workspace, owner):
    membership = Membership.objects.get(user=owner, workspace=workspace)

    response = staff_client.post(
        reverse("admin:workspaces_membership_delete", args=[membership.pk]),
        {"post": "yes"},
        follow=True,
    )

    assert response.status_code == 403  # the admin offers no delete for the last owner
    assert Membership.objects.filter(pk=membership.pk, role=Role.OWNER).exists()


def test_bulk_deleting_the_last_owner_is_refused(staff_client, workspace, owner, member):
    memberships = Membership.objects.filter(workspace=workspace)

    response = staff_client.post(
        reverse("admin:workspaces_membership_changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [m.pk for m in memberships],
            "post": "yes",
        },
        follow=True,
    )

    assert response.status_code == 403  # one selected membership may not be deleted
    assert set(Membership.objects.filter(workspace=workspace).values_list("user", flat=True)) == {
        owner.pk,
        member.pk,
    }  # all or nothing


def test_deleting_one_of_two_owners_works(staff_client, workspace, owner):
    second = MembershipFactory(workspace=workspace, role=Role.OWNER)

    response = staff_client.post(
        reverse("admin:workspaces_membership_delete", args=[second.pk]),
        {"post": "yes"},
        follow=True,
    )

    assert not any("cannot" in m for m in messages_of(response))
    assert not Membership.objects.filter(pk=second.pk).exists()
    assert Membership.objects.filter(user=owner, workspace=workspace).exists()


def test_adding_a_membership(staff_client, workspace, owner):
    user = UserFactory()

    response = staff_client.post(
        reverse("admin:workspaces_membership_add"),
        {"user": user.pk, "workspace": workspace.pk, "role": Role.ADMIN, "_save": "Save"},
    )

    assert response.status_code == 302
    assert Membership.objects.get(user=user, workspace=workspace).role == Role.ADMIN


# EstimatedCountPaginator -----------------------------------------------------------------


def test_paginator_counts_exactly_on_a_small_table(workspace):
    JobFactory.create_batch(7, workspace=workspace)

    paginator = EstimatedCountPaginator(Job.objects.all(), 3)

    assert paginator.count == 7
    assert paginator.num_pages == 3


def test_paginator_counts_a_filtered_queryset_exactly(workspace, other_workspace):
    JobFactory.create_batch(4, workspace=workspace)
    JobFactory.create_batch(2, workspace=other_workspace)

    paginator = EstimatedCountPaginator(Job.objects.filter(workspace=other_workspace), 10)

    with CaptureQueriesContext(connection) as queries:
        assert paginator.count == 2
    assert len(queries) == 1  # a plain COUNT, no pg_class estimate
    assert "pg_class" not in queries[0]["sql"]


@pytest.mark.skipif(connection.vendor == "postgresql", reason="SQLite has no row estimate")
def test_paginator_on_sqlite_never_estimates(workspace):
    JobFactory.create_batch(3, workspace=workspace)

    with CaptureQueriesContext(connection) as queries:
        assert EstimatedCountPaginator(Workspace.objects.all(), 10).count == 1
    assert len(queries) == 1
