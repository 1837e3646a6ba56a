"""Every URL that takes an object id answers 404 for another workspace's object.

The test walks the URL configuration, so a new URL with an id cannot be forgotten: it fails
until URL_OBJECTS (tests/conftest.py) says how to make such an object in another workspace.
"""

import pytest
from django.urls import reverse
from django.urls.converters import IntConverter

from tests import factories
from tests.conftest import URL_OBJECTS, page_urls
from workspaces.services import api_token_create

pytestmark = pytest.mark.django_db


def id_urls():
    return sorted(
        {
            (name, route)
            for name, route, converters in page_urls()
            if any(isinstance(c, IntConverter) for c in converters.values())
        }
    )


def test_every_id_url_is_known():
    missing = [name for name, _ in id_urls() if name not in URL_OBJECTS]
    assert not missing, f"Add these URLs to URL_OBJECTS: {missing}"


@pytest.mark.parametrize(("name", "route"), id_urls())
def test_foreign_object_is_404(owner_client, workspace, owner, other_workspace, name, route):
    factories.MembershipFactory(workspace=other_workspace)  # the foreign workspace has an owner
    url = reverse(name, kwargs=URL_OBJECTS[name](other_workspace))
    headers = {}
    if route.startswith("api/"):  # the runtime API: a good token of the owner's workspace
        raw = api_token_create(workspace=workspace, name="t", user=owner).raw
        headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    assert owner_client.get(url, **headers).status_code in (404, 405), url
    assert (
        owner_client.post(
            url, {"name": "x", "role": "owner", "instructions": "x"}, **headers
        ).status_code
        == 404
    ), url
