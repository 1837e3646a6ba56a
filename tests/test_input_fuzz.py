"""Every page answers bad input with a page, never a server error, and NUL changes nothing.

The test walks the URL configuration like tests/test_url_scoping.py, so a new page is fuzzed
as soon as it exists. For each page URL (not the admin, not the JSON API), as a logged-in owner
with real objects behind the URL's ids, it sends:
- GET with each known query parameter set to NUL and to each wrong type, one at a time;
- POST with each field of the page's forms set likewise, the other fields keeping the values
  the page itself rendered (so the bad field is what the view has to cope with);
- a 1 MB string, empty and blank values, and repeated keys (lists) in every parameter at once.
NUL must be refused with 400 before anything is written (checked with a fingerprint of the
tables). Lone surrogates cannot be sent in a UTF-8 request (Django decodes with "replace");
the middleware's own test feeds them in directly (tests/workspaces/test_middleware.py).
"""

from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.urls.converters import IntConverter

from callflows.models import CallFlowVersion, PhoneNumber, Step, StepJob
from jobs.models import Job, JobTemplate
from tests.conftest import URL_OBJECTS, page_urls
from workspaces.models import ApiToken, Membership

pytestmark = pytest.mark.django_db

NUL = ["\x00", "caller\x00intent"]
WRONG = ["abc", "-1", "99999999999999999999", "²"]  # each sent in one parameter at a time
WRONG_EVERYWHERE = ["x" * 1_000_000, "", " "]  # each sent in all parameters at once
# Query parameters the views read (q, page, sort, next, a, b, template, scratch) and a few more.
QUERY_PARAMS = ["q", "page", "sort", "next", "a", "b", "template", "scratch", "version", "pk"]
# Fields posted whatever the page shows: ones sent by buttons and scripts, not rendered inputs.
EXTRA_FIELDS = ["revision", "choice", "job", "offset", "q", "page", "next", "template", "name"]


def fuzzed_urls():
    return sorted(
        (name, route)
        for name, route, _ in page_urls()
        # The JSON API (api/v1/, any namespace) has its own tests; logging out ends the session.
        if not route.startswith("api/") and name != "logout"
    )


def _kwargs(name, workspace):
    converters = next(c for n, _, c in page_urls() if n == name)
    if any(isinstance(c, IntConverter) for c in converters.values()):
        return URL_OBJECTS[name](workspace)
    return dict.fromkeys(converters, "x")  # accounts/reset/<uidb64>/<token>/


def _job_texts(workspace, kwargs):
    job = Job.objects.get(pk=kwargs["pk"])
    return {**job.text_fields(), "revision": job.revision, "choice": "keep"}


def _job_choice(workspace, kwargs):
    return {"job": Job.objects.create(workspace=workspace, name="Fuzzed", instructions="x").pk}


# POST-only URLs: what their forms (rendered on other pages) send, so each bad field is tried
# next to otherwise good data.
POST_BASE = {
    "workspaces:switch": lambda ws, kwargs: {"workspace": ws.pk},
    "jobs:optimize": _job_texts,
    "jobs:undo_optimize": _job_texts,
    "jobs:conflict": _job_texts,
    "callflows:attach": _job_choice,
    "callflows:detach": _job_choice,
    "callflows:job_move": lambda ws, kwargs: {**_job_choice(ws, kwargs), "offset": "1"},
    "callflows:step_move": lambda ws, kwargs: {"offset": "1"},
}


def fingerprint():
    """Row counts of what pages write, and every job's revision."""
    models = [Job, JobTemplate, Step, StepJob, PhoneNumber, ApiToken, Membership, CallFlowVersion]
    counts = tuple(model.objects.count() for model in models)
    return counts, tuple(Job.objects.order_by("pk").values_list("pk", "revision"))


class _Inputs(HTMLParser):
    """The names and rendered values of a page's form fields (first value wins)."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, str] = {}
        self._textarea = None
        self._select = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button"):
            if a.get("type") not in ("checkbox", "radio") or "checked" in a:
                self.values.setdefault(name, a.get("value") or "")
            else:
                self.values.setdefault(name, "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.values.setdefault(name, "")
        elif tag == "select" and name:
            self._select = name
            self.values.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in a:
            self.values[self._select] = a.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if self._textarea and not self.values[self._textarea]:
            self.values[self._textarea] = data.strip()


def form_values(html: str) -> dict[str, str]:
    parser = _Inputs()
    parser.feed(html)
    parser.values.pop("csrfmiddlewaretoken", None)
    return parser.values


def _check(response, what):
    assert response.status_code < 500, f"{what}: {response.status_code}"


@pytest.mark.parametrize(("name", "route"), fuzzed_urls())
def test_page_survives_bad_input(owner_client, workspace, name, route):
    kwargs = _kwargs(name, workspace)
    url = reverse(name, kwargs=kwargs)
    page = owner_client.get(url)
    _check(page, f"GET {url}")
    body = b"".join(page.streaming_content) if page.streaming else page.content  # CSV export
    base = form_values(body.decode()) if page.status_code == 200 else {}
    if name in POST_BASE:
        base.update(POST_BASE[name](workspace, kwargs))
    fields = sorted(set(base) | set(EXTRA_FIELDS))

    before = fingerprint()
    for param in QUERY_PARAMS:
        assert owner_client.get(url, {param: NUL[0]}).status_code == 400, f"GET {url} {param}"
    for field in fields:
        response = owner_client.post(url, {**base, field: NUL[0]})
        assert response.status_code == 400, f"POST {url} {field}"
    assert owner_client.get(url, dict.fromkeys(QUERY_PARAMS, NUL[1])).status_code == 400
    assert owner_client.post(url, dict.fromkeys(fields, NUL[1])).status_code == 400
    assert fingerprint() == before, f"{url}: NUL changed the database"

    for value in WRONG:
        for param in QUERY_PARAMS:
            _check(owner_client.get(url, {param: value}), f"GET {url} {param}={value!r}")
        for field in fields:
            _check(owner_client.post(url, {**base, field: value}), f"POST {url} {field}={value!r}")
    for value in WRONG_EVERYWHERE:
        _check(
            owner_client.get(url, dict.fromkeys(QUERY_PARAMS, value)), f"GET {url} {value[:9]!r}"
        )
        _check(owner_client.post(url, dict.fromkeys(fields, value)), f"POST {url} {value[:9]!r}")
    lists = {p: ["1", "abc"] for p in {*QUERY_PARAMS, *fields}}  # repeated keys
    _check(owner_client.get(url, lists), f"GET {url} lists")
    _check(owner_client.post(url, lists), f"POST {url} lists")


def test_every_page_is_fuzzed():
    """The walk reaches the pages this issue is about (a broken walk would fuzz nothing)."""
    names = {name for name, _ in fuzzed_urls()}
    assert {"jobs:list", "jobs:edit", "callflows:editor", "workspaces:switch"} <= names
    assert not any(name.startswith(("api:", "calls_api:", "admin:")) for name in names)
