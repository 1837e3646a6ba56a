"""The OpenAPI 3.1 document of the runtime API, built from the code: the bodies are the pydantic
models of calls/schemas.py (the report is validated by the same model), the paths are listed
once below beside the views' status codes. Served at /api/v1/openapi.json and read by the docs
page (/api/v1/docs); tests/calls/test_openapi.py fuzzes the API against it (schemathesis)."""

import json
from functools import cache

from pydantic.json_schema import models_json_schema

from core.jsonapi import MAX_DEPTH

from . import schemas
from .api import REPORT_MAX_BYTES

REF = "#/components/schemas/{model}"
E164 = r"^\+[1-9][0-9]{6,14}$"

# (model, the mode its schema describes): requests are validated, answers serialized.
MODELS = [
    (schemas.CallReport, "validation"),
    (schemas.CallOut, "serialization"),
    (schemas.RouteAsk, "validation"),
    (schemas.RouteAnswer, "serialization"),
    (schemas.LiveConfig, "serialization"),
    (schemas.Error, "serialization"),
    (schemas.FieldErrors, "serialization"),
]


def _ref(model) -> dict:
    return {"$ref": REF.format(model=model.__name__)}


def _json(model, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ref(model)}}}


def _errors(*codes: int) -> dict:
    words = {
        400: (
            "Invalid request: each refused field with why (a body that is not a JSON object, "
            f"is nested more than {MAX_DEPTH} levels deep or holds a lone surrogate included).",
            schemas.FieldErrors,
        ),
        401: ("Missing, unknown or revoked API token.", schemas.Error),
        404: ("Unknown, or another workspace's (they look the same).", schemas.Error),
        405: ("Method not allowed.", schemas.Error),
        409: ("The key was used before with another body.", schemas.Error),
        413: (f"The body is larger than {REPORT_MAX_BYTES // 1024} KB.", schemas.Error),
        429: (
            "Too many bad tokens from this address this minute (see Retry-After).",
            schemas.Error,
        ),
    }
    return {str(code): _json(words[code][1], words[code][0]) for code in codes}


NUMBER = {
    "name": "number",
    "in": "path",
    "required": True,
    "description": "The phone number in E.164, e.g. +15555550123.",
    "schema": {"type": "string", "pattern": E164},
    "example": "+15555550123",
}
SECURITY = [{"token": []}]


def _paths() -> dict:
    return {
        "/api/v1/numbers/{number}/live": {
            "get": {
                "operationId": "live",
                "summary": "Read a number's live configuration",
                "description": "The published version with the current text of its jobs "
                "(and their parsed actions) and knowledge. Send the ETag back in If-None-Match: "
                "304 while nothing changed. Accept-Encoding: gzip gets a compressed body.",
                "security": SECURITY,
                "parameters": [
                    NUMBER,
                    {
                        "name": "If-None-Match",
                        "in": "header",
                        "required": False,
                        "description": "The ETag of the body you hold.",
                        "schema": {"type": "string"},
                    },
                ],
                "responses": {
                    "200": _json(schemas.LiveConfig, "The live configuration."),
                    "304": {"description": "Unchanged since the ETag you sent."},
                    **_errors(401, 404, 429),
                },
            }
        },
        "/api/v1/numbers/{number}/route": {
            "post": {
                "operationId": "route",
                "summary": "Ask the router what to do with what a caller said",
                "description": "Against the live version; the same router as mock calls. The "
                "answer is one of three decisions: `job` (follow the job), `clarify` (ask the "
                "caller `question`; send their reply with `options` set to the two options' "
                "ids, which settles it) or `none` (no attached job fits). `ambiguous` is "
                "deprecated: it equals decision == `clarify`.",
                "security": SECURITY,
                "parameters": [NUMBER],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref(schemas.RouteAsk)}},
                },
                "responses": {
                    "200": _json(
                        schemas.RouteAnswer,
                        "The decision (job, clarify or none), the runner-up and why.",
                    ),
                    **_errors(400, 401, 404, 413, 429),
                },
            }
        },
        "/api/v1/calls": {
            "post": {
                "operationId": "report_call",
                "summary": "Report a finished call",
                "description": "Idempotent: the Idempotency-Key header (else external_id) is "
                "the key. The same key and body again answers the first call (200); the same key "
                "with another body is 409. Unknown fields are ignored. If job_version is left "
                "out, the job's version live at started_at is found from its history.",
                "security": SECURITY,
                "parameters": [
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "description": "Makes retries safe; defaults to external_id.",
                        "schema": {"type": "string", "maxLength": 255},
                    }
                ],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref(schemas.CallReport)}},
                },
                "responses": {
                    "201": _json(schemas.CallOut, "Stored: the call with its id."),
                    "200": _json(schemas.CallOut, "A retry: the call stored the first time."),
                    **_errors(400, 401, 404, 409, 413, 429),
                },
            }
        },
        "/api/v1/calls/{id}": {
            "get": {
                "operationId": "read_call",
                "summary": "Read a stored call",
                "security": SECURITY,
                "parameters": [
                    {
                        "name": "id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer", "minimum": 1},
                    }
                ],
                "responses": {
                    "200": _json(schemas.CallOut, "The call."),
                    **_errors(401, 404, 405, 429),
                },
            }
        },
    }


@cache
def document() -> dict:
    _, top = models_json_schema(MODELS, ref_template=REF)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Playbook runtime API",
            "version": "1",
            "description": "What the telephony runtime calls: read a number's live "
            "configuration, ask the router, report a finished call. Every request carries a "
            "workspace API token: `Authorization: Bearer pb_…`.",
        },
        "paths": _paths(),
        "components": {
            "schemas": top["$defs"],
            "securitySchemes": {
                "token": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A workspace API token.",
                }
            },
        },
    }


@cache
def document_json() -> bytes:
    return json.dumps(document(), indent=1).encode()
