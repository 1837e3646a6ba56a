"""The OpenAPI 3.1 document of the runtime API, written by django-ninja from the operations of
calls/api.py and the models of calls/schemas.py that validate their bodies: nothing here is
written by hand. Served at /api/v1/openapi.json and read by the docs page (/api/v1/docs);
tests/calls/test_openapi.py fuzzes the API against it (schemathesis)."""

import json
from functools import cache

from .api import ERROR_WORDS, api

PATH_PREFIX = "api/v1/"  # where config/urls.py serves the API


@cache
def document() -> dict:
    doc = json.loads(json.dumps(api.get_openapi_schema(path_prefix=PATH_PREFIX)))
    for item in doc["paths"].values():  # each refusal says when it happens, not just "Not Found"
        for operation in item.values():
            for status, answer in operation["responses"].items():
                answer["description"] = ERROR_WORDS.get(int(status), answer["description"])
    return doc


@cache
def document_json() -> bytes:
    return json.dumps(document(), indent=1).encode()
