"""The runtime API's one way to read a JSON body and to answer an error, for every view under
/api/ (calls/api.py, callflows/api.py) and for the errors no view answers (config/urls.py's
handler400/404/500).

A body is refused with a 400 in JSON before a view sees it when it is not JSON, is nested deeper
than MAX_DEPTH (a 100,000-deep body would raise RecursionError in the parser or in the
validation after it) or holds a lone surrogate (a JSON "\\ud800" escape: no tokenizer, encoder or
database takes one). Every answer under /api/ is JSON with the shape of calls/schemas.py's Error
({"error": …}) or FieldErrors ({"error": "Invalid request.", "fields": {…}}), 404, 405, 413 and
500 included; the API's page for people (its docs) is the exception.
"""

import json
import re
from functools import wraps

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.views import defaults

API_PREFIX = "/api/"
PAGES = frozenset({"/api/v1/docs"})  # the API's pages for people: HTML like every page
BODY_MAX_BYTES = 256 * 1024  # a 100,000-character transcript with room to spare
MAX_DEPTH = 32  # the deepest body is 4 levels (a report's actions); room for future fields
INVALID = "Invalid request."
NOT_JSON = "Send a JSON object."
TOO_DEEP = f"Nested more than {MAX_DEPTH} levels deep."
BROKEN = (
    "Contains a broken Unicode character (a lone surrogate such as \\ud800) that cannot be "
    "stored or read. Send valid Unicode text."
)
_SURROGATE = re.compile("[\ud800-\udfff]")


def is_api(request) -> bool:
    return request.path_info.startswith(API_PREFIX) and request.path_info not in PAGES


def error(message: str, status: int, **headers) -> JsonResponse:
    response = JsonResponse({"error": message}, status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def field_errors(errors: dict) -> JsonResponse:
    return JsonResponse({"error": INVALID, "fields": errors}, status=400)


def too_large(max_bytes: int) -> JsonResponse:
    size = f"{max_bytes // 1024} KB" if max_bytes >= 1024 else f"{max_bytes} bytes"
    return error(f"The body is larger than {size}.", 413)


def _no_constant(name):
    raise ValueError(name)  # NaN and Infinity are no JSON numbers


def _problem(data) -> tuple[str, str] | None:
    """(field, why) for the first value nested too deeply or holding a lone surrogate, without
    recursion. The field is the top-level key the value is under ("body" for the body itself
    and for a bad key), as the views name their fields."""
    stack = [(data, 1, "body")]
    while stack:
        value, depth, field = stack.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                return field, BROKEN
            continue
        if not isinstance(value, dict | list):
            continue
        if depth > MAX_DEPTH:
            return "body", TOO_DEEP
        if isinstance(value, dict):
            for key, item in value.items():
                if _SURROGATE.search(key):
                    return "body", f"A field name: {BROKEN[0].lower()}{BROKEN[1:]}"
                stack.append((item, depth + 1, key if depth == 1 else field))
        else:
            stack.extend((item, depth + 1, field) for item in value)
    return None


def json_body(request, *, max_bytes: int = BODY_MAX_BYTES) -> tuple[dict | None, JsonResponse]:
    """The request's JSON object, or the answer refusing it: (data, None) or (None, response).
    413 above `max_bytes` (read from Content-Length first: a large body is never read), 400
    naming the field for anything else."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > max_bytes:
        return None, too_large(max_bytes)
    body = request.body
    if len(body) > max_bytes:
        return None, too_large(max_bytes)
    try:
        data = json.loads(body or b"null", parse_constant=_no_constant)
    except RecursionError:
        return None, field_errors({"body": TOO_DEEP})
    except (ValueError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict):
        return None, field_errors({"body": NOT_JSON})
    problem = _problem(data)
    if problem is not None:
        return None, field_errors({problem[0]: problem[1]})
    return data, None


def require_methods(*methods: str):
    """require_http_methods for the API: a JSON 405 with the Allow header."""
    allowed = sorted({m.upper() for m in methods} | ({"HEAD"} if "GET" in methods else set()))

    def decorator(view):
        @wraps(view)
        def inner(request, *args, **kwargs):
            if request.method not in allowed:
                return method_not_allowed(allowed)
            return view(request, *args, **kwargs)

        return inner

    return decorator


def method_not_allowed(allowed) -> JsonResponse:
    allow = ", ".join(allowed)
    return error(f"Method not allowed: use {allow}.", 405, Allow=allow)


# Error handlers (config/urls.py): JSON under /api/, Django's pages elsewhere -------------------


def bad_request(request, exception, template_name=defaults.ERROR_400_TEMPLATE_NAME):
    if is_api(request):
        if isinstance(exception, RequestDataTooBig):
            return too_large(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        return error("Bad request.", 400)
    return defaults.bad_request(request, exception, template_name)


def page_not_found(request, exception, template_name=defaults.ERROR_404_TEMPLATE_NAME):
    if is_api(request):
        return error("Not found: no API endpoint at this address.", 404)
    return defaults.page_not_found(request, exception, template_name)


def server_error(request, template_name=defaults.ERROR_500_TEMPLATE_NAME):
    if is_api(request):
        return error("Server error: the request failed and was logged. Retry later.", 500)
    return defaults.server_error(request, template_name)
