"""The runtime API on django-ninja (issue 21, point 3): the schema is the validator, so what the
OpenAPI document refuses the view refuses and the other way round; every refusal under /api/ has
the one JSON shape; HEAD and the methods an address does not take answer as before."""

import json

import jsonschema_rs
import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse

from calls import api, openapi, runtime

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(workspace, owner):
    from workspaces.services import api_token_create

    return api_token_create(workspace=workspace, name="runtime", user=owner).raw


def accepts(model: str, data) -> bool:
    """The OpenAPI document's schema of `model` takes `data`."""
    doc = openapi.document()
    schema = {"$ref": f"#/components/schemas/{model}", "components": doc["components"]}
    return jsonschema_rs.Draft202012Validator(schema).is_valid(data)


def ask(client, number, token, data):
    return client.post(
        reverse("calls_api:route", args=[number]),
        data=json.dumps(data),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


# What the issue found: the document accepted these, the view refused them ---------------------


@pytest.mark.parametrize(
    "data",
    [
        {"said": " "},
        {"said": "\u3000\x1c"},  # blanks to str.strip(), whatever a regex engine calls \s
        {"said": "hi", "current_job": True},
        {"said": "hi", "current_job": "5"},
        {"said": "hi", "history": [" "]},
        {"said": "hi", "options": [3, 3]},
    ],
)
def test_the_route_document_refuses_what_the_view_refuses(client, published, token, data):
    assert not accepts("RouteAsk", data)
    assert ask(client, published.phone.number, token, data).status_code == 400


def test_a_whole_number_written_as_a_float_is_an_integer_for_both(client, published, token):
    data = {"said": "When are you open?", "current_job": 5.0}
    assert accepts("RouteAsk", data)
    assert ask(client, published.phone.number, token, data).status_code == 200


# One JSON shape -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raised", "status", "message"),
    [
        (PermissionDenied("Not for this token."), 403, "Not for this token."),
        (Http404("nothing"), 404, "Not found."),
    ],
)
def test_an_error_raised_in_an_operation_has_the_json_shape(
    client, published, token, monkeypatch, raised, status, message
):
    def fail(*args):
        raise raised

    monkeypatch.setattr(runtime, "index", fail)
    response = ask(client, published.phone.number, token, {"said": "hi"})
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": message}


def test_head_is_served_like_get_and_other_methods_are_a_json_405(client, published, token):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    live = reverse("api:live", args=[published.phone.number])
    assert client.head(live, **auth).status_code == 200
    route = reverse("calls_api:route", args=[published.phone.number])
    for method in ("options", "patch", "head"):
        response = getattr(client, method)(route, **auth)
        assert response.status_code == 405, method
        assert response["Allow"] == "POST"
    response = client.generic("FOO", route, **auth)
    assert response.status_code == 405 and response.json() == {
        "error": "Method not allowed: use POST."
    }


def test_the_document_is_written_by_ninja_from_the_operations():
    doc = openapi.document()
    ops = {op["operationId"] for item in doc["paths"].values() for op in item.values()}
    assert ops == {"live", "route", "report_call", "read_call", "outcomes"}
    assert set(api.api.urls[0]) and doc["components"]["securitySchemes"] == {
        "RuntimeToken": {"type": "http", "scheme": "bearer"}
    }
    route = doc["paths"]["/api/v1/numbers/{number}/route"]["post"]
    assert route["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/RouteAsk"
    }
    assert route["responses"]["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/FieldErrors"
    }
