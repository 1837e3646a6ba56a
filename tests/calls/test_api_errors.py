"""Bad input never makes the runtime API (or a page) answer 500, and every answer under /api/ is
JSON (issue 20, point 4): a lone surrogate or a 100,000-deep body is a 400 naming the field in
one parser (core/jsonapi.py); unknown addresses, wrong methods, bodies over Django's limit
and unhandled errors answer 404, 405, 413 and 500 in JSON, through the test client (the full
middleware) and through the lean production handler alike."""

import json
import logging
from io import BytesIO

import pytest
from django.core import signals
from django.db import close_old_connections
from django.test import Client
from django.urls import reverse

from calls import runtime
from config.handlers import RuntimeAPIHandler
from core import jsonapi
from jobs import services
from jobs.models import Job
from tests.calls import test_api as route_tests
from tests.factories import JobFactory

pytestmark = pytest.mark.django_db
token = route_tests.token  # a runtime API token of the workspace

SURROGATE_BODY = b'{"said": "hi \\ud800 there"}'
DEEP = b"[" * 100_000 + b"]" * 100_000


def ask(client, number, token, raw, path="calls_api:route", **extra):
    url = reverse(path, args=[number]) if number else reverse(path)
    return client.post(
        url,
        data=raw,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        **extra,
    )


def refused(response, field, message):
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": "Invalid request.", "fields": {field: message}}


def test_route_refuses_a_lone_surrogate(client, published, token):
    response = ask(client, published.phone.number, token, SURROGATE_BODY)
    refused(response, "said", jsonapi.BROKEN)
    history = b'{"said": "hello", "history": ["fine", "x \\udfff"]}'
    refused(ask(client, published.phone.number, token, history), "history", jsonapi.BROKEN)
    key = b'{"said": "hello", "\\ud800": 1}'
    response = ask(client, published.phone.number, token, key)
    assert response.status_code == 400 and "field name" in response.json()["fields"]["body"]


@pytest.mark.parametrize(
    "raw",
    [DEEP, b'{"said": "hi", "history": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"],
    ids=["array", "in-a-field"],
)
def test_route_and_report_refuse_a_deeply_nested_body(client, published, token, raw):
    refused(ask(client, published.phone.number, token, raw), "body", jsonapi.TOO_DEEP)
    refused(ask(client, None, token, raw, path="calls_api:calls"), "body", jsonapi.TOO_DEEP)


def test_nesting_just_past_the_limit_is_refused(client, published, token):
    nested = "[" * jsonapi.MAX_DEPTH + "]" * jsonapi.MAX_DEPTH
    raw = json.dumps({"said": "hi", "history": "@"}).replace('"@"', nested).encode()
    refused(ask(client, published.phone.number, token, raw), "body", jsonapi.TOO_DEEP)


def test_a_report_with_a_lone_surrogate_names_the_field(client, published, token):
    raw = b'{"number": "+15555550123", "summary": "bad \\ud834 text"}'
    refused(ask(client, None, token, raw, path="calls_api:calls"), "summary", jsonapi.BROKEN)


def test_an_unknown_api_address_is_a_json_404(client):
    for url in ("/api/nothing", "/api/v1/numbers/+15555550123/nothing", "/api/v2/calls"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert response["Content-Type"] == "application/json"
        assert response.json() == {"error": "Not found: no API endpoint at this address."}
    # Pages keep their HTML 404.
    response = Client().get("/no-such-page/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


def test_a_wrong_method_is_a_json_405_with_allow(client, published, token):
    number = published.phone.number
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    cases = [
        ("get", reverse("calls_api:route", args=[number]), "POST"),
        ("put", reverse("calls_api:calls"), "POST"),
        ("post", reverse("api:live", args=[number]), "GET, HEAD"),
        ("delete", reverse("calls_api:openapi"), "GET, HEAD"),
    ]
    for method, url, allow in cases:
        response = getattr(client, method)(url, **auth)
        assert response.status_code == 405, url
        assert response["Content-Type"] == "application/json"
        assert response["Allow"] == allow
        assert response.json() == {"error": f"Method not allowed: use {allow}."}


def test_a_body_over_djangos_limit_is_a_json_413(client, published, token, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    raw = json.dumps({"said": "x" * 2_000}).encode()
    response = ask(client, published.phone.number, token, raw)
    assert response.status_code == 413
    assert response.json() == {"error": "The body is larger than 1000 bytes."}


def test_a_route_body_over_the_api_limit_is_a_json_413(client, published, token):
    raw = json.dumps({"said": "x", "pad": "y" * jsonapi.BODY_MAX_BYTES}).encode()
    response = ask(client, published.phone.number, token, raw)
    assert response.status_code == 413
    assert response.json() == {"error": "The body is larger than 256 KB."}


def test_an_unhandled_error_is_a_json_500_and_is_logged(published, token, monkeypatch, caplog):
    def broken(*args):
        raise RuntimeError("the index is broken")

    monkeypatch.setattr(runtime, "index", broken)
    client = Client(raise_request_exception=False)
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = ask(client, published.phone.number, token, b'{"said": "hi"}')
    assert response.status_code == 500
    assert response.json() == {
        "error": "Server error: the request failed and was logged. Retry later."
    }
    assert any(r.exc_info and "the index is broken" in str(r.exc_info[1]) for r in caplog.records)


# The lean production handler (config/handlers.py) answers the same -----------------------------


@pytest.fixture
def lean():
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    handler = RuntimeAPIHandler()

    def call(method, path, body=b"", **headers):
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "SERVER_NAME": "testserver",
            "SERVER_PORT": "80",
            "wsgi.url_scheme": "http",
            "wsgi.input": BytesIO(body),
            "CONTENT_LENGTH": str(len(body)),
            "CONTENT_TYPE": "application/json",
            **{f"HTTP_{k.upper()}": v for k, v in headers.items()},
        }
        seen = {}

        def start_response(status, response_headers, exc_info=None):
            seen["status"] = int(status.split()[0])
            seen["headers"] = dict(response_headers)

        content = b"".join(handler(environ, start_response))
        return seen["status"], seen["headers"], content

    try:
        yield call
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def test_the_lean_handler_answers_json_for_every_error(lean, published, token, monkeypatch):
    status, headers, content = lean("GET", "/api/v1/nothing", x_request_id="rt-42")
    assert (status, headers["Content-Type"]) == (404, "application/json")
    assert headers["X-Request-ID"] == "rt-42"
    status, headers, content = lean("GET", "/healthz")  # the probe is served here too
    assert status == 200 and json.loads(content)["status"] == "ok"
    route = f"/api/v1/numbers/{published.phone.number}/route"
    auth = {"authorization": f"Bearer {token}"}
    status, headers, content = lean("GET", route, **auth)
    assert (status, headers["Allow"], headers["Content-Type"]) == (405, "POST", "application/json")
    status, headers, content = lean("POST", route, SURROGATE_BODY, **auth)
    assert status == 400 and json.loads(content)["fields"] == {"said": jsonapi.BROKEN}
    status, headers, content = lean("POST", route, DEEP, **auth)
    assert status == 400 and json.loads(content)["fields"] == {"body": jsonapi.TOO_DEEP}
    monkeypatch.setattr(runtime, "index", lambda *a: 1 / 0)
    status, headers, content = lean("POST", route, b'{"said": "hi"}', **auth)
    assert (status, headers["Content-Type"]) == (500, "application/json")


# Pages: a lone surrogate in a form is a 400 page, never a 500 --------------------------------


def _multipart(fields: dict, charset: str) -> tuple[bytes, str]:
    boundary = "XyZ"
    parts = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    )
    raw = (parts + f"--{boundary}--\r\n").encode(charset, "surrogatepass")
    return raw, f"multipart/form-data; boundary={boundary}; charset={charset}"


@pytest.mark.parametrize("charset", ["raw_unicode_escape"])
def test_a_job_edit_with_a_lone_surrogate_is_refused_with_a_page(owner_client, workspace, charset):
    job = JobFactory(workspace=workspace)
    fields = {
        "name": "Opening hours",
        "description": "When we open.",
        "trigger": "Hours",
        "instructions": "1. Say \ud800 the hours.",
        "revision": job.revision,
    }
    raw, content_type = _multipart(fields, charset)
    response = owner_client.post(
        reverse("jobs:edit", args=[job.pk]), data=raw, content_type=content_type
    )
    assert response.status_code == 400
    assert "cannot be stored" in response.content.decode()
    assert Job.objects.get(pk=job.pk).instructions == job.instructions


def test_a_lone_surrogate_the_checks_miss_is_a_400_page_not_a_500(
    owner_client, workspace, monkeypatch
):
    """Whatever path carries one to the database driver, the page answers 400."""

    def unstorable(**kwargs):
        "\ud800".encode()  # what sqlite3 and psycopg do with the text

    monkeypatch.setattr(services, "job_update", unstorable)
    job = JobFactory(workspace=workspace)
    data = {"name": "Hours", "instructions": "1. Say the hours.", "revision": job.revision}
    response = owner_client.post(reverse("jobs:edit", args=[job.pk]), data)
    assert response.status_code == 400
    assert "cannot be stored" in response.content.decode()
