"""The project's WSGI application, plus /bench/trivial served with no middleware at all: the
cheapest JSON answer the same gunicorn can give, the baseline bench/runtime_api.py compares the
live endpoint against."""

from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler

from config.wsgi import application as project


class BareHandler(WSGIHandler):
    def load_middleware(self, is_async=False):
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        self._middleware_chain = convert_exception_to_response(self._get_response)


_bare = BareHandler()


def application(environ, start_response):
    if environ.get("PATH_INFO") == "/bench/trivial":
        return _bare(environ, start_response)
    return project(environ, start_response)
