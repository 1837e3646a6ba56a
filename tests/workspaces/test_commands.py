"""The create_workspace command and the argument lookups the commands share."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.conftest import command_help
from tests.factories import UserFactory, WorkspaceFactory
from workspaces.management.base import get_user, get_workspace
from workspaces.models import Membership, Role, Workspace

pytestmark = pytest.mark.django_db


def run(*args):
    out = StringIO()
    call_command("create_workspace", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def counts():
    return Workspace.objects.count(), Membership.objects.count()


def test_help_works(capsys):
    out = " ".join(command_help("create_workspace", capsys).split())
    assert out.startswith("usage: create_workspace ")
    assert "Create a workspace owned by an existing user." in out
    assert "--owner-email OWNER_EMAIL" in out


def test_creates_the_workspace_and_its_owner():
    user = UserFactory(email="ann@example.test")

    out = run("--name", "Acme Plumbing", "--owner-email", "ann@example.test")

    workspace = Workspace.objects.get(name="Acme Plumbing")
    assert workspace.slug == "acme-plumbing"
    membership = Membership.objects.get(workspace=workspace)
    assert membership.user == user
    assert membership.role == Role.OWNER
    assert out.strip() == (
        "Created workspace 'Acme Plumbing' (slug acme-plumbing) owned by ann@example.test."
    )


def test_email_is_matched_case_insensitively_and_trimmed():
    user = UserFactory(email="ann@example.test")

    run("--name", "Acme", "--owner-email", "  ANN@Example.TEST ")

    assert Membership.objects.get(workspace__name="Acme").user == user


def test_name_is_trimmed():
    user = UserFactory()

    run("--name", "  Acme  ", "--owner-email", user.email)

    assert Workspace.objects.get().name == "Acme"


def test_explicit_slug():
    user = UserFactory()

    run("--name", "Acme", "--owner-email", user.email, "--slug", "acme-hq")

    assert Workspace.objects.get().slug == "acme-hq"


def test_a_taken_slug_gets_a_suffix():
    WorkspaceFactory(name="Acme", slug="acme")
    user = UserFactory()

    out = run("--name", "Acme", "--owner-email", user.email)

    assert "(slug acme-2)" in out
    assert Workspace.objects.filter(slug="acme-2", memberships__user=user).exists()


def test_unknown_email_is_an_error_and_creates_nothing():
    UserFactory(email="ann@example.test")
    before = counts()

    with pytest.raises(CommandError) as error:
        run("--name", "Acme", "--owner-email", "bob@example.test")

    assert str(error.value) == "No active user with the email 'bob@example.test'."
    assert counts() == before


@pytest.mark.parametrize("name", ["", "   "])
def test_blank_name_is_an_error_and_creates_nothing(name):
    user = UserFactory()
    before = counts()

    with pytest.raises(CommandError) as error:
        run("--name", name, "--owner-email", user.email)

    assert str(error.value) == "A workspace needs a name."
    assert counts() == before


def test_too_long_name_is_an_error_and_creates_nothing():
    user = UserFactory()
    before = counts()

    with pytest.raises(CommandError, match="at most 100 characters"):
        run("--name", "x" * 101, "--owner-email", user.email)

    assert counts() == before


def test_taken_explicit_slug_is_an_error_and_creates_nothing():
    WorkspaceFactory(slug="acme")
    user = UserFactory()
    before = counts()

    with pytest.raises(CommandError, match="Workspace with this Slug already exists."):
        run("--name", "Acme", "--owner-email", user.email, "--slug", "acme")

    assert counts() == before


def test_invalid_slug_is_an_error_and_creates_nothing():
    user = UserFactory()
    before = counts()

    with pytest.raises(CommandError, match="valid “slug”"):
        run("--name", "Acme", "--owner-email", user.email, "--slug", "not a slug!")

    assert counts() == before


def test_missing_required_options_are_errors():
    with pytest.raises(CommandError, match="--owner-email"):
        run("--name", "Acme")
    with pytest.raises(CommandError, match="--name"):
        run("--owner-email", "ann@example.test")


# Shared lookups ----------------------------------------------------------------------------


def test_get_workspace():
    workspace = WorkspaceFactory(slug="acme")

    assert get_workspace("acme") == workspace
    with pytest.raises(CommandError, match="No workspace with the slug 'ACME'."):
        get_workspace("ACME")


def test_get_user_finds_only_active_users():
    user = UserFactory(email="ann@example.test")
    UserFactory(email="gone@example.test", is_active=False)

    assert get_user(" Ann@Example.test ") == user
    with pytest.raises(CommandError, match="No active user with the email 'gone@example.test'."):
        get_user("gone@example.test")
