"""A search is cut to SEARCH_MAX characters, with a notice: a 1 MB search box is not a query."""

import pytest
from django.urls import reverse

from jobs import selectors
from tests.factories import JobFactory

pytestmark = pytest.mark.django_db


def test_long_search_is_cut_with_a_notice(owner_client, workspace):
    term = "a" * selectors.SEARCH_MAX
    JobFactory(workspace=workspace, name="Found", instructions=term)
    response = owner_client.get(reverse("jobs:list"), {"q": term + "b" * 1_000_000})
    assert response.status_code == 200
    assert response.context["query"] == term
    assert [j.name for j in response.context["page"]] == ["Found"]
    assert "Only the first 200 characters are searched." in response.content.decode()


def test_short_search_has_no_notice(owner_client, workspace):
    response = owner_client.get(reverse("jobs:list"), {"q": "  Found  "})
    assert response.context["query"] == "Found"
    assert "characters are searched" not in response.content.decode()
