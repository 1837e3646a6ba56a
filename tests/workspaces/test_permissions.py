"""The one role rule: require_role, staff_support and the page decorator that shares its table."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from tests.factories import MembershipFactory, UserFactory
from workspaces.models import Role
from workspaces.permissions import EDIT, OWN, READ, RoleRequired, require_role, staff_support

pytestmark = pytest.mark.django_db

ALLOWED = {
    (Role.OWNER, READ): True,
    (Role.OWNER, EDIT): True,
    (Role.OWNER, OWN): True,
    (Role.ADMIN, READ): True,
    (Role.ADMIN, EDIT): True,
    (Role.ADMIN, OWN): False,
    (Role.MEMBER, READ): True,
    (Role.MEMBER, EDIT): False,
    (Role.MEMBER, OWN): False,
}
WHO = {READ: "members", EDIT: "owners and admins", OWN: "owners"}


@pytest.mark.parametrize(("role", "level"), list(ALLOWED))
def test_each_role_at_each_level(workspace, role, level):
    user = MembershipFactory(workspace=workspace, role=role).user
    if ALLOWED[role, level]:
        require_role(user, workspace, level, "publish call flows")
    else:
        with pytest.raises(RoleRequired) as exc:
            require_role(user, workspace, level, "publish call flows")
        assert str(exc.value) == f"Only {WHO[level]} of {workspace.name} can publish call flows."


def test_refusal_is_a_permission_denied(workspace, member):
    with pytest.raises(PermissionDenied):
        require_role(member, workspace, EDIT)


def test_a_role_elsewhere_does_not_count(workspace, other_workspace):
    user = MembershipFactory(workspace=other_workspace, role=Role.OWNER).user
    for level in (READ, EDIT, OWN):
        with pytest.raises(RoleRequired, match=f"of {workspace.name} can"):
            require_role(user, workspace, level)


@pytest.mark.parametrize("who", ["none", "anonymous", "inactive owner"])
def test_no_user_anonymous_and_inactive_are_refused(workspace, who):
    user = {
        "none": lambda: None,
        "anonymous": AnonymousUser,
        "inactive owner": lambda: (
            MembershipFactory(workspace=workspace, user__is_active=False).user
        ),
    }[who]()
    with pytest.raises(RoleRequired):
        require_role(user, workspace, READ)


def test_staff_is_an_ordinary_user_outside_staff_support(workspace, staff):
    with pytest.raises(RoleRequired):
        require_role(staff, workspace, READ)


def test_staff_passes_every_level_inside_staff_support(workspace, staff):
    with staff_support(staff):
        for level in (READ, EDIT, OWN):
            require_role(staff, workspace, level)
    with pytest.raises(RoleRequired):  # and only inside
        require_role(staff, workspace, EDIT)


def test_staff_support_is_for_that_staff_user_only(workspace, staff, member):
    other_staff = UserFactory(is_staff=True)
    with staff_support(staff):
        with pytest.raises(RoleRequired):
            require_role(other_staff, workspace, EDIT)
        with pytest.raises(RoleRequired):
            require_role(member, workspace, EDIT)


def test_staff_support_grants_nothing_to_non_staff_or_inactive_staff(workspace, member):
    with staff_support(member):
        with pytest.raises(RoleRequired):
            require_role(member, workspace, EDIT)
    inactive = UserFactory(is_staff=True, is_active=False)
    with staff_support(inactive):
        with pytest.raises(RoleRequired):
            require_role(inactive, workspace, READ)


def test_staff_support_ends_even_when_the_block_fails(workspace, staff):
    with pytest.raises(ValueError), staff_support(staff):
        raise ValueError
    with pytest.raises(RoleRequired):
        require_role(staff, workspace, EDIT)


# Pages share the table and show the same message ---------------------------------------------


def test_page_refusal_names_the_role_and_workspace(member_client, workspace):
    response = member_client.post(reverse("workspaces:invite"), {"email": "x@example.test"})
    assert response.status_code == 403
    assert f"Only owners of {workspace.name} can do this." in response.text
    assert "Nothing was changed." in response.text


def test_htmx_refusal_reloads_the_page_with_the_message(member_client, workspace):
    page = "http://testserver" + reverse("callflows:list")
    response = member_client.post(
        reverse("callflows:list"), HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL=page
    )
    message = f"Only owners and admins of {workspace.name} can do this."
    assert response.status_code == 403
    assert message in response.text
    # htmx swaps no 403: it follows HX-Redirect, and the reloaded page shows the refusal.
    assert response["HX-Redirect"] == page
    assert message in member_client.get(page).text


def test_htmx_refusal_never_redirects_off_site(member_client):
    response = member_client.post(
        reverse("callflows:list"),
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL="https://evil.example/",
    )
    assert response.status_code == 403
    assert "HX-Redirect" not in response
