"""A WSGI handler for the runtime API that skips the browser's middleware.

The telephony runtime calls /api/ on every ring with a bearer token: sessions, auth, messages,
CSRF, htmx and the current-workspace lookup do nothing for it but cost time. Only the request id
(config/requestid.py) and SecurityMiddleware (HTTPS redirect, HSTS, nosniff) stay. The load
balancer's /healthz probe is served here too: it needs no session either.
"""

from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.middleware.security import SecurityMiddleware

from config.requestid import RequestIdMiddleware

API_PREFIX = "/api/"
# Pages for people under /api/ (the API's docs) need sessions and the CSP: the full handler.
FULL_PATHS = frozenset({"/api/v1/docs"})
LEAN_PATHS = frozenset({"/healthz"})


class RuntimeAPIHandler(WSGIHandler):
    middleware = (RequestIdMiddleware, SecurityMiddleware)  # outermost first, like MIDDLEWARE

    def load_middleware(self, is_async=False):
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        chain = convert_exception_to_response(self._get_response)
        for middleware in reversed(self.middleware):
            chain = convert_exception_to_response(middleware(chain))
        self._middleware_chain = chain


def application_with_api(application, api_application):
    """Route /api/ and /healthz to the lean handler and everything else to the full one."""

    def dispatch(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if (path.startswith(API_PREFIX) and path not in FULL_PATHS) or path in LEAN_PATHS:
            return api_application(environ, start_response)
        return application(environ, start_response)

    return dispatch
