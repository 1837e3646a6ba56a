"""/api/v1/openapi.json (the document, public like any API description) and /api/v1/docs (the
same document as a page: every operation, its parameters, request and response schemas)."""

import json

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from core import jsonapi
from workspaces.permissions import READ, workspace_view

from . import openapi

METHODS = ("get", "post", "put", "patch", "delete")


@jsonapi.require_methods("GET")
def openapi_json(request):
    response = HttpResponse(openapi.document_json(), content_type="application/json")
    response["Cache-Control"] = "no-cache"
    return response


def _type(schema: dict) -> str:
    """A property's type in words: "string (date-time)", "CallAction list", "integer or null"."""
    if not isinstance(schema, dict):  # `true`: anything
        return "any"
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " or ".join(_type(s) for s in schema["anyOf"])
    if "enum" in schema:
        return "one of " + ", ".join(str(v) for v in schema["enum"])
    if "const" in schema:
        return repr(schema["const"])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"list of {_type(schema.get('items', {}))}"
    if kind == "object" and "additionalProperties" in schema:
        return f"object of {_type(schema['additionalProperties'])}"
    return f"{kind} ({schema['format']})" if "format" in schema else kind


LIMITS = {
    "minLength": "at least {} characters",
    "maxLength": "at most {} characters",
    "minItems": "at least {} items",
    "maxItems": "at most {} items",
    "minimum": "≥ {}",
    "maximum": "≤ {}",
    "pattern": "matches {}",
}


def _limits(schema: dict) -> list[str]:
    if not isinstance(schema, dict):
        return []
    found = [words.format(schema[key]) for key, words in LIMITS.items() if key in schema]
    for option in schema.get("anyOf", []):
        found += _limits(option)
    if schema.get("type") == "array":
        found += [f"each {w}" for w in _limits(schema.get("items", {}))]
    return found


def _schema_rows(name: str, schema: dict) -> dict:
    required = set(schema.get("required", []))
    return {
        "name": name,
        "description": schema.get("description", ""),
        "properties": [
            {
                "name": prop,
                "type": _type(spec),
                "required": prop in required,
                "description": spec.get("description", ""),
                "limits": "; ".join(_limits(spec)),
                "default": json.dumps(spec["default"]) if "default" in spec else "",
            }
            for prop, spec in schema.get("properties", {}).items()
        ],
    }


def _ref_name(content: dict | None) -> str:
    schema = (content or {}).get("application/json", {}).get("schema", {})
    return schema.get("$ref", "").rsplit("/", 1)[-1]


@require_GET
@workspace_view(READ)
def docs(request):
    doc = openapi.document()
    operations = []
    for path, item in doc["paths"].items():
        for method in METHODS:
            if method not in item:
                continue
            op = item[method]
            operations.append(
                {
                    "anchor": op["operationId"],
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "parameters": [
                        {**p, "type": _type(p["schema"]), "limits": "; ".join(_limits(p["schema"]))}
                        for p in op.get("parameters", [])
                    ],
                    "request": _ref_name(op.get("requestBody", {}).get("content")),
                    "responses": [
                        {
                            "status": status,
                            "description": answer["description"],
                            "schema": _ref_name(answer.get("content")),
                        }
                        for status, answer in sorted(op["responses"].items())
                    ],
                }
            )
    schemas = [_schema_rows(n, s) for n, s in sorted(doc["components"]["schemas"].items())]
    return render(
        request,
        "calls/api_docs.html",
        {"doc": doc, "operations": operations, "schemas": schemas},
    )
