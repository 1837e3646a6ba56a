"""The OpenAPI document of the runtime API and its docs page; schemathesis fuzzes every documented
operation through the WSGI application (the lean /api/ handler as in production) with a real
token and a published number: no 500, every answer matches the document, a body the document
refuses is refused (400), and a body it accepts is refused only for what no schema can know
(a step, a job, a phone number or a clock that the data decides)."""

import json

import jsonschema_rs
import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.urls import reverse
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from callflows import services as cf
from calls import openapi
from calls.api import NOT_ATTACHED
from config.handlers import RuntimeAPIHandler, application_with_api
from tests.conftest import page_urls
from workspaces.services import api_token_create

pytestmark = pytest.mark.django_db

# What a view refuses in a body the document accepts: only what the data decides. Each entry is
# (field, the start of its message); "" for any message of that field.
NEEDS_THE_DATA = {
    ("step", "Unknown step."),  # route: the live version's steps
    ("step", "The live version has no Sona step."),
    ("options", NOT_ATTACHED),  # route: the jobs attached to the step
    ("step", "Not a Sona step of this number's call flow"),  # report
    ("job", "No job with this id in the workspace."),
    ("job_version", "Not a history version of this job."),
    ("number", ""),  # a phone number: the numbering plan of the workspace's country
    ("caller", ""),
    ("started_at", "Is "),  # the clock: from 2000 on, at most a day ahead
    ("ended_at", "Is "),  # and not before started_at
    ("ended_at", "The call lasts more than"),
    ("to", "Is before from."),  # outcomes: a range the two dates decide
    ("to", "The range is longer than"),
    ("from", "Not a date"),  # the calendar: 2026-02-30 has the format, and no day
    ("to", "Not a date"),
}


def _fits_the_document(case) -> bool:
    doc = openapi.document()
    operation = doc["paths"][case.operation.path][case.method.lower()]
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if body is None or case.body is None:
        return True
    schema = {**body["schema"], "components": doc["components"]}
    return jsonschema_rs.Draft202012Validator(schema).is_valid(case.body)


@schemathesis.check
def schema_valid_bodies_are_refused_only_for_the_data(ctx, response, case):
    """positive_data_acceptance, except for the refusals that depend on stored data or the
    clock: a 400 to a body the document accepts names only such fields."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 400:
        return None
    if not _fits_the_document(case):  # Hypothesis' regular expressions are not Rust's
        return None
    fields = response.json().get("fields", {})
    shape = {
        field: message
        for field, message in fields.items()
        if not any(
            field == known and str(message).startswith(start) for known, start in NEEDS_THE_DATA
        )
    }
    assert not shape, f"The document accepts what the view refuses: {shape}"
    return None


def _wire(value) -> str | None:
    """A query value as the request carries it: text (None: not one value)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return None if isinstance(value, (list, dict)) or value is None else str(value)


def _query_fits_as_text(case) -> bool:
    """A query value is text on the wire: an integer generated for a text parameter (step=-365)
    arrives as valid text, and the request is not schema-violating any more."""
    operation = openapi.document()["paths"][case.operation.path].get(case.method.lower(), {})
    params = {p["name"]: p["schema"] for p in operation.get("parameters", []) if p["in"] == "query"}
    for name, value in (case.query or {}).items():
        text = _wire(value)
        if name not in params or text is None:
            return False
        if not jsonschema_rs.validator_for(params[name]).is_valid(text):
            return False
    return bool(case.query)


@schemathesis.check
def negative_queries_rejected(ctx, response, case):
    """negative_data_rejection, except for a query whose generated values, once text, fit."""
    if _query_fits_as_text(case) and not case.body and response.status_code < 400:
        return None
    return negative_data_rejection(ctx, response, case)


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_queries_rejected,  # what the document refuses is refused
    schema_valid_bodies_are_refused_only_for_the_data,  # and what it accepts is taken
]


def test_the_document_is_served_and_names_every_runtime_endpoint(client):
    response = client.get(reverse("calls_api:openapi"))
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    doc = json.loads(response.content)
    assert doc["openapi"].startswith("3.1")
    documented = {(path, method.upper()) for path, item in doc["paths"].items() for method in item}
    assert documented == {
        ("/api/v1/numbers/{number}/live", "GET"),
        ("/api/v1/numbers/{number}/route", "POST"),
        ("/api/v1/calls", "POST"),
        ("/api/v1/calls/{id}", "GET"),
        ("/api/v1/outcomes", "GET"),
    }
    # Every runtime URL (the API namespaces, not the document and its page) is documented.
    routes = {
        "/" + route.replace("<str:number>", "{number}").replace("<str:pk>", "{id}")
        for name, route, _ in page_urls()
        if name.split(":")[0] in {"api", "calls_api", "outcomes_api"}
        and name not in {"calls_api:openapi", "calls_api:docs"}
    }
    assert routes == {path for path, _ in documented}
    # Every $ref resolves.
    refs = set(json.dumps(doc).split('"$ref": "#/components/schemas/')[1:])
    names = {ref.split('"')[0] for ref in refs}
    assert names <= set(doc["components"]["schemas"])


def test_the_report_schema_is_the_one_that_validates(client):
    """The document's CallReport is calls.schemas.CallReport, which call_report validates with."""
    from calls import schemas

    doc = openapi.document()
    assert doc["components"]["schemas"]["CallReport"]["required"] == [
        name for name, f in schemas.CallReport.model_fields.items() if f.is_required()
    ]
    assert doc["components"]["schemas"]["CallReport"]["properties"]["summary"]["maxLength"] == (
        5_000
    )


def test_the_docs_page_lists_every_operation_and_schema(owner_client, member_client):
    response = owner_client.get(reverse("calls_api:docs"))
    assert response.status_code == 200
    text = response.content.decode()
    for line in (
        "GET /api/v1/numbers/{number}/live",
        "POST /api/v1/calls",
        "GET /api/v1/calls/{id}",
        "GET /api/v1/outcomes",
    ):
        assert line in text
    for name in ("CallReport", "CallOut", "RouteAsk", "RouteAnswer", "LiveConfig", "FieldErrors"):
        assert f'id="schema-{name}"' in text
    assert "Idempotency-Key" in text and "at most 5000 characters" in text
    assert '<table class="stack">' in text and "<caption>Fields of CallReport</caption>" in text
    assert member_client.get(reverse("calls_api:docs")).status_code == 200  # a read


def test_the_docs_page_is_linked_from_the_tokens_page_and_needs_a_login(owner_client):
    from django.test import Client

    page = owner_client.get(reverse("workspaces:tokens")).content.decode()
    assert f'href="{reverse("calls_api:docs")}"' in page
    assert Client().get(reverse("calls_api:docs")).status_code == 302


def test_production_serves_the_docs_page_with_the_full_handler():
    """The lean /api/ handler has no sessions or CSP: the docs page goes to the full one."""
    seen = []
    app = application_with_api(
        lambda environ, start: seen.append("full"), lambda environ, start: seen.append("lean")
    )
    for path in ("/api/v1/docs", "/api/v1/openapi.json", "/api/v1/calls", "/jobs/"):
        app({"PATH_INFO": path}, None)
    assert seen == ["full", "lean", "lean", "full"]


# Schemathesis ------------------------------------------------------------------------------


@pytest.fixture
def wsgi_app():
    """The production dispatch (lean handler for /api/) on the test database. Django's test
    Client does the same: no connection is closed between requests inside the test transaction."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield application_with_api(WSGIHandler(), RuntimeAPIHandler())
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def runtime(workspace, owner, phone, sona):
    """The number the document's examples name (+15555550123), published, and a token."""
    cf.callflow_publish(call_flow=phone.call_flow, user=owner)
    return api_token_create(workspace=workspace, name="fuzz", user=owner).raw


# Built from the code's document itself (no request needed to load it); bodies that fit the
# document and bodies that do not.
schema = schemathesis.openapi.from_dict(openapi.document())
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])


@schema.parametrize()
@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,  # no .hypothesis folder in the work tree
)
def test_the_api_matches_its_document(case, wsgi_app, runtime):
    case.call_and_validate(
        app=wsgi_app,
        # The WSGI transport does not decompress; gzip is a transfer detail of /live.
        headers={"Authorization": f"Bearer {runtime}", "Accept-Encoding": "identity"},
        checks=CHECKS,
    )
