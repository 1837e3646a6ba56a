"""The runtime API's bearer-token auth as django-ninja auth classes (calls/api.py).

They apply the one set of rules of callflows.api: a missing, malformed, unknown or revoked
token is a 401, counted against its source in the cache (callflows/throttle.py), and the one
that goes over the limit is a 429 with Retry-After; a valid token is always served. RuntimeToken
with number=True also finds the number in the URL in the same query (404 for an unknown number,
another workspace's or an unpublished one); without, the view scopes what it reads to the
token's workspace (request.auth.workspace_id). With max_bytes, a body larger than that (by its
Content-Length) is refused next, 413, before it is read.

A refusal is raised as Refused(response) and answered as it is (calls/api.py's handler).
"""

from ninja.security import HttpBearer

from callflows.api import authorize, authorize_token
from core import jsonapi


class Refused(Exception):
    """An answer that ends the request here: a 401/404/413/429 already in the JSON shape."""

    def __init__(self, response):
        super().__init__(response.status_code)
        self.response = response


def _too_large(request, max_bytes: int | None) -> None:
    if max_bytes is None:
        return
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > max_bytes:
        raise Refused(jsonapi.too_large(max_bytes))


class RuntimeToken(HttpBearer):
    """A workspace API token, `Authorization: Bearer pb_…`; with number=True, the published
    number in the URL too, found in the same query."""

    def __init__(self, *, number: bool = False, max_bytes: int | None = None):
        super().__init__()
        self.number = number
        self.max_bytes = max_bytes

    def __call__(self, request):
        if self.number:
            found, refused = authorize(request, request.resolver_match.kwargs.get("number", ""))
        else:
            found, refused = authorize_token(request)
        if refused is not None:
            raise Refused(refused)
        _too_large(request, self.max_bytes)
        return found

    def authenticate(self, request, token):  # pragma: no cover - __call__ does it all
        raise NotImplementedError
