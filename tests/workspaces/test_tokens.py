import pytest
from django.urls import reverse

from workspaces.models import ApiToken, Role
from workspaces.services import api_token_workspace

pytestmark = pytest.mark.django_db


def test_owner_creates_token_shown_once_and_revokes(owner_client, workspace):
    response = owner_client.post(reverse("workspaces:tokens"), {"name": "Runtime"})
    raw = response.context["created"].raw
    assert raw in response.text and "not shown again" in response.text
    assert api_token_workspace(raw) == workspace
    listing = owner_client.get(reverse("workspaces:tokens"))
    assert raw not in listing.text and "Runtime" in listing.text
    token = ApiToken.objects.get()
    owner_client.post(reverse("workspaces:token_revoke", args=[token.pk]), {"confirm": "yes"})
    assert api_token_workspace(raw) is None


def test_blank_token_name_refused(owner_client):
    response = owner_client.post(reverse("workspaces:tokens"), {"name": "  "}, follow=True)
    assert "Give the token a name" in response.text
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MEMBER])
def test_only_owners_manage_tokens(client, workspace, role):
    from tests.factories import MembershipFactory

    client.force_login(MembershipFactory(workspace=workspace, role=role).user)
    assert client.get(reverse("workspaces:tokens")).status_code == 403
    assert client.post(reverse("workspaces:tokens"), {"name": "x"}).status_code == 403
    assert not ApiToken.objects.exists()


def test_revoke_api_token_command(workspace, owner, capsys):
    from django.core.management import CommandError, call_command

    from workspaces.models import ApiToken
    from workspaces.services import api_token_create

    new = api_token_create(workspace=workspace, name="runtime", user=owner)
    with pytest.raises(CommandError, match="No API token"):
        call_command(
            "revoke_api_token", "--workspace", workspace.slug, "--prefix", "pb_nope",
            "--user", owner.email,
        )  # fmt: skip
    call_command(
        "revoke_api_token", "--workspace", workspace.slug, "--prefix", new.token.prefix,
        "--user", owner.email,
    )  # fmt: skip
    assert "Revoked token 'runtime'" in capsys.readouterr().out
    assert ApiToken.objects.get(pk=new.token.pk).revoked_at is not None
