"""The project's WSGI application, plus /bench/trivial served with no middleware at all: the
cheapest JSON answer the same gunicorn can give, the baseline bench/runtime_api.py compares the
live endpoint against."""

from config.handlers import RuntimeAPIHandler
from config.wsgi import application as project


class BareHandler(RuntimeAPIHandler):
    middleware = ()


_bare = BareHandler()


def application(environ, start_response):
    if environ.get("PATH_INFO") == "/bench/trivial":
        return _bare(environ, start_response)
    return project(environ, start_response)
