import pytest
from django.core.exceptions import ValidationError

from tests.factories import MembershipFactory, UserFactory
from workspaces import services
from workspaces.models import Membership, Role, Workspace
from workspaces.permissions import RoleRequired, staff_support

pytestmark = pytest.mark.django_db


def test_workspace_create_makes_owner_and_unique_slug(owner):
    first = services.workspace_create(name="Acme Plumbing", owner=owner)
    second = services.workspace_create(name="Acme Plumbing", owner=owner)
    assert (first.slug, second.slug) == ("acme-plumbing", "acme-plumbing-2")
    assert Membership.objects.get(workspace=first).role == Role.OWNER


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_workspace_create_refuses_bad_name(owner, name):
    before = Workspace.objects.count()
    with pytest.raises(ValidationError):
        services.workspace_create(name=name, owner=owner)
    assert Workspace.objects.count() == before


def test_staff_add_an_existing_user_directly(workspace, owner, staff):
    invitee = UserFactory(email="Jane@Example.test")
    with staff_support(staff):
        membership = services.membership_add(
            workspace=workspace, email="jane@example.TEST", role="admin", user=staff
        )
    assert (membership.user, membership.role) == (invitee, Role.ADMIN)


def test_an_owner_cannot_add_anyone_directly(workspace, owner):
    """Owners invite; only support staff (in the admin) may skip the invitee's consent."""
    UserFactory(email="jane@example.test")
    with pytest.raises(RoleRequired, match="Only support staff of .* owners send an invitation"):
        services.membership_add(
            workspace=workspace, email="jane@example.test", role="admin", user=owner
        )
    assert workspace.memberships.count() == 1


@pytest.mark.parametrize(
    ("email", "role", "message"),
    [
        ("nobody@example.test", "member", "No user with the email"),
        ("{owner}", "member", "is already a member"),
        ("{owner}", "superuser", "Choose owner, admin or member."),
    ],
)
def test_add_errors(workspace, owner, staff, email, role, message):
    with staff_support(staff), pytest.raises(ValidationError, match=message):
        services.membership_add(
            workspace=workspace, email=email.format(owner=owner.email), role=role, user=staff
        )
    assert workspace.memberships.count() == 1


def test_last_owner_cannot_be_demoted_or_removed(workspace, owner):
    membership = owner.memberships.get()
    with pytest.raises(ValidationError, match="last owner cannot be demoted"):
        services.membership_change_role(membership=membership, role="admin", user=owner)
    with pytest.raises(ValidationError, match="last owner cannot be removed"):
        services.membership_remove(membership=membership, user=owner)
    membership.refresh_from_db()
    assert membership.role == Role.OWNER


def test_owner_can_step_down_when_another_owner_exists(workspace, owner):
    other_owner = MembershipFactory(workspace=workspace, role=Role.OWNER).user
    membership = owner.memberships.get()
    services.membership_change_role(membership=membership, role="member", user=owner)
    membership.refresh_from_db()
    assert membership.role == Role.MEMBER
    services.membership_remove(membership=membership, user=other_owner)
    assert not Membership.objects.filter(pk=membership.pk).exists()
