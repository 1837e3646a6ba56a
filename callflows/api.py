"""JSON API for the telephony runtime, authenticated with a workspace API token.

Served by config.wsgi's lean handler (no sessions, messages, CSRF or auth middleware): the
runtime calls on every ring. See live.py for why every answer is fresh in every process.
"""

import re

from django.http import HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from workspaces.services import TOKEN_PREFIX, hash_token

from . import live

UNKNOWN = "Unknown phone number."
NOT_PUBLISHED = "This phone number has no published call flow yet."
BAD_TOKEN = "Missing, unknown or revoked API token."
# Only an E.164 shape is looked up; anything else (NUL, letters, 1 MB) is simply unknown.
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


def _error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _token(request) -> str:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


@require_GET
def live_config(request, number):
    raw = _token(request)
    if not raw.startswith(TOKEN_PREFIX) or not raw.isascii():
        return _error(BAD_TOKEN, 401)
    found = live.lookup(hash_token(raw), number if _E164.fullmatch(number) else "")
    if found is None:
        return _error(BAD_TOKEN, 401)
    if found.phone_id is None or found.phone_workspace_id != found.token_workspace_id:
        return _error(UNKNOWN, 404)  # another workspace's number looks like an unknown one
    if not found.published:
        return _error(NOT_PUBLISHED, 404)
    body = live.body(found.phone_id, found.generation)
    use_gzip = "gzip" in request.headers.get("Accept-Encoding", "")
    # Each representation has its own ETag; either one in If-None-Match means "unchanged".
    etag = f'"{body.digest}-gzip"' if use_gzip else f'"{body.digest}"'
    known = {t.strip() for t in request.headers.get("If-None-Match", "").split(",")}
    if known & {f'"{body.digest}"', f'"{body.digest}-gzip"'}:
        response = HttpResponse(status=304)
    elif use_gzip:
        response = HttpResponse(body.gzip, content_type="application/json")
        response["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(body.json, content_type="application/json")
    response["ETag"] = etag
    response["Vary"] = "Accept-Encoding"
    response["Cache-Control"] = "no-cache"
    return response
