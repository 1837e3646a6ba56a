"""Revoking an API token first says which runtime will be refused; only the confirming POST
revokes."""

import pytest
from django.urls import reverse

from workspaces.models import Role
from workspaces.services import api_token_create, api_token_revoke, api_token_workspace

pytestmark = pytest.mark.django_db


@pytest.fixture
def new_token(workspace, owner):
    return api_token_create(workspace=workspace, name="Main runtime", user=owner)


def url(token):
    return reverse("workspaces:token_revoke", args=[token.pk])


def test_confirmation_names_the_runtime_that_will_be_refused(owner_client, new_token):
    token = new_token.token
    text = owner_client.get(url(token)).text
    assert (
        f"The telephony runtime using “Main runtime” ({token.prefix}…) will be refused from its "
        "next request."
    ) in text
    assert token.prefix.startswith("pb_") and new_token.raw not in text
    assert '<input type="hidden" name="confirm" value="yes">' in text
    assert ">Confirm</button>" in text
    assert f'href="{reverse("workspaces:tokens")}">Cancel</a>' in text


def test_get_and_unconfirmed_posts_revoke_nothing(owner_client, workspace, new_token):
    target = url(new_token.token)
    for response in (
        owner_client.get(target),
        owner_client.post(target),
        owner_client.post(target, {"confirm": "no"}),
        owner_client.post(target, {"confirm": ""}),
    ):
        assert response.status_code == 200
        assert ">Confirm</button>" in response.text
    assert api_token_workspace(new_token.raw) == workspace
    new_token.token.refresh_from_db()
    assert new_token.token.revoked_at is None


def test_confirming_post_revokes(owner_client, new_token):
    response = owner_client.post(url(new_token.token), {"confirm": "yes"}, follow=True)
    assert "Token “Main runtime” revoked." in response.text
    assert api_token_workspace(new_token.raw) is None


def test_revoked_token_shows_the_refusal_without_a_confirm_button(owner_client, owner, new_token):
    api_token_revoke(token=new_token.token, user=owner)
    text = owner_client.get(url(new_token.token)).text
    assert "The token “Main runtime” is already revoked." in text
    assert ">Confirm</button>" not in text


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MEMBER])
def test_only_owners_see_the_confirmation(client, workspace, new_token, role):
    from tests.factories import MembershipFactory

    client.force_login(MembershipFactory(workspace=workspace, role=role).user)
    assert client.get(url(new_token.token)).status_code == 403
    assert client.post(url(new_token.token), {"confirm": "yes"}).status_code == 403
    assert api_token_workspace(new_token.raw) == workspace


def test_token_list_revoke_button_opens_the_confirmation(owner_client, new_token):
    text = owner_client.get(reverse("workspaces:tokens")).text
    assert f'<form method="get" action="{url(new_token.token)}">' in text
    assert 'aria-label="Revoke Main runtime">Revoke</button>' in text
