"""JSON API for the telephony runtime, authenticated with a workspace API token: the token,
number and throttle rules every runtime operation shares, and /live's answer. The operations
themselves are declared in calls/api.py (django-ninja: one API, one document).

Served by config.wsgi's lean handler (no sessions, messages, CSRF or auth middleware): the
runtime calls on every ring. See live.py for why every answer is fresh in every process.
"""

import re

from django.http import HttpResponse, JsonResponse

from workspaces.services import TOKEN_PREFIX, hash_token

from . import live, throttle

UNKNOWN = "Unknown phone number."
NOT_PUBLISHED = "This phone number has no published call flow yet."
BAD_TOKEN = "Missing, unknown or revoked API token."
TOO_MANY = "Too many requests with a bad API token from this address. Try again in {} seconds."
# Only an E.164 shape is looked up; anything else (NUL, letters, 1 MB) is simply unknown.
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


def _error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _token(request) -> str:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def _well_formed(raw: str) -> bool:
    return raw.startswith(TOKEN_PREFIX) and raw.isascii()


def _bad_token(request) -> JsonResponse:
    """Count the failure against the source; the one that goes over the limit gets 429."""
    failure = throttle.bad_token(request)
    if failure.limited:
        response = _error(TOO_MANY.format(failure.retry_after), 429)
        response["Retry-After"] = str(failure.retry_after)
        return response
    return _error(BAD_TOKEN, 401)


def authorize(request, number) -> tuple[live.Lookup | None, JsonResponse | None]:
    """The one query of a runtime request and its refusals (401, 404, 429), shared by every
    endpoint that serves a number's live version: (lookup, None) or (None, the error).
    A valid token is never refused by the bad-token limit (throttle.py)."""
    raw = _token(request)
    if not _well_formed(raw):
        return None, _bad_token(request)  # no query
    number = number if _E164.fullmatch(number) else ""
    found = live.lookup(hash_token(raw), number)
    if found.token_workspace_id is None:
        return None, _bad_token(request)
    if found.phone_id is None or found.phone_workspace_id != found.token_workspace_id:
        return None, _error(UNKNOWN, 404)  # another workspace's number looks like an unknown one
    if not found.published:
        return None, _error(NOT_PUBLISHED, 404)
    return found, None


def authorize_token(request) -> tuple[live.TokenLookup | None, JsonResponse | None]:
    """authorize() for endpoints that name no number in their URL: the same token and
    401/429 rules, one query; the caller scopes what it reads to `workspace_id`."""
    raw = _token(request)
    if not _well_formed(raw):
        return None, _bad_token(request)
    found = live.token_lookup(hash_token(raw))
    if found.workspace_id is None:
        return None, _bad_token(request)
    return found, None


def live_answer(request, found: live.Lookup) -> HttpResponse:
    """GET /api/v1/numbers/<e164>/live for an authorized number: the live body, 304 while the
    ETag sent in If-None-Match is current, gzip when asked for."""
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
