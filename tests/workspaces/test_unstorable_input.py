"""Pages refuse NUL and lone surrogates in one middleware, with a 400 page, before any view
or query runs (PostgreSQL cannot store NUL: today's DataError); and `next` stays on the site."""

from urllib.parse import urlencode

import pytest
from django.http import HttpResponse, QueryDict
from django.test import RequestFactory
from django.urls import reverse

from core.text import MESSAGE
from jobs.models import Job
from tests.factories import JobFactory, MembershipFactory, WorkspaceFactory
from workspaces.middleware import RefuseUnstorableTextMiddleware
from workspaces.models import ApiToken

pytestmark = pytest.mark.django_db

REFUSED = "contains a character that cannot be stored"


def _refused(response, what):
    assert response.status_code == 400
    assert MESSAGE.format(what=what) in response.content.decode()
    assert "Nothing was changed" in response.content.decode()


def test_nul_in_a_search_is_a_400_page(owner_client, workspace):
    JobFactory(workspace=workspace)
    _refused(owner_client.get(reverse("jobs:list"), {"q": "a\x00b"}), "The value of “q”")


def test_nul_in_a_urlencoded_form_saves_nothing(owner_client):
    body = urlencode({"name": "Take a message", "instructions": "1. Listen.\x00"})
    response = owner_client.post(
        reverse("jobs:create"), body, content_type="application/x-www-form-urlencoded"
    )
    _refused(response, "The value of “instructions”")
    assert not Job.objects.exists()


def test_nul_in_a_multipart_form_saves_nothing(owner_client):
    _refused(
        owner_client.post(reverse("workspaces:tokens"), {"name": "runtime\x00"}),
        "The value of “name”",
    )
    assert not ApiToken.objects.exists()


def test_nul_in_a_field_name_or_the_address(owner_client):
    _refused(owner_client.post(reverse("jobs:create"), {"na\x00me": "x"}), "A field name")
    _refused(owner_client.get("/jobs/%00/"), "The address")


def test_nul_in_the_conflict_form_changes_nothing(owner_client, workspace):
    job = JobFactory(workspace=workspace, instructions="Theirs.")
    response = owner_client.post(
        reverse("jobs:conflict", args=[job.pk]),
        {"choice": "overwrite", "revision": job.revision, "instructions": "Mine\x00"},
    )
    _refused(response, "The value of “instructions”")
    job.refresh_from_db()
    assert (job.instructions, job.revision, job.history.count()) == ("Theirs.", 1, 1)


def test_htmx_gets_the_page_swapped_in(owner_client):
    response = owner_client.get(reverse("jobs:list"), {"q": "\x00"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response["HX-Retarget"] == "body"
    assert REFUSED in response.content.decode()


# Lone surrogates cannot arrive in a UTF-8 request (Django decodes with "replace"), so the
# middleware is fed them directly, as a future decoding path might.


def _through_middleware(path, method="get", **data):
    request = getattr(RequestFactory(), method)(path)
    reached = []
    query = QueryDict(mutable=True)
    for key, value in data.items():
        query[key] = value
    if method == "get":
        request.GET = query
    else:
        request.POST = query
    response = RefuseUnstorableTextMiddleware(lambda r: reached.append(r) or HttpResponse("view"))(
        request
    )
    return response, bool(reached)


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("value", ["\ud800", "ok\udfffok", "\x00"])
def test_lone_surrogate_and_nul_never_reach_the_view(client, method, value):
    response, reached = _through_middleware("/jobs/", method, q=value)
    assert (response.status_code, reached) == (400, False)
    assert REFUSED in response.content.decode()


def test_clean_text_and_the_api_pass_through(client):
    response, reached = _through_middleware("/jobs/", q="Ünïcode ✓ 😀")
    assert (response.content, reached) == (b"view", True)
    # The runtime API answers its own input in JSON: the page middleware leaves it alone.
    response, reached = _through_middleware("/api/v1/numbers/x/live", q="\x00")
    assert (response.content, reached) == (b"view", True)


# next -----------------------------------------------------------------------------------------


@pytest.fixture
def second_workspace(owner):
    ws = WorkspaceFactory(name="Zeta")
    MembershipFactory(workspace=ws, user=owner)
    return ws


@pytest.mark.parametrize(
    "target",
    [
        "abc",
        "jobs:list",
        "//evil.example",
        "https://evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "http://testserver/jobs/",
        "",
    ],
)
@pytest.mark.parametrize("where", ["post", "query"])
def test_switch_next_outside_the_site_goes_to_the_job_list(
    owner_client, second_workspace, target, where
):
    data = {"workspace": second_workspace.pk}
    url = reverse("workspaces:switch")
    if where == "post":
        data["next"] = target
    else:
        url += "?" + urlencode({"next": target})
    response = owner_client.post(url, data)
    assert (response.status_code, response["Location"]) == (302, reverse("home"))
    assert owner_client.session["workspace_id"] == second_workspace.pk


def test_switch_next_local_path_is_kept(owner_client, second_workspace):
    response = owner_client.post(
        reverse("workspaces:switch"), {"workspace": second_workspace.pk, "next": "/numbers/?page=2"}
    )
    assert response["Location"] == "/numbers/?page=2"


@pytest.mark.parametrize("workspace_id", ["²", "abc", "99999999999999999999", "-1", ""])
def test_switch_to_a_bad_workspace_id_is_404(owner_client, workspace, workspace_id):
    response = owner_client.post(reverse("workspaces:switch"), {"workspace": workspace_id})
    assert response.status_code == 404
