"""A request id on every log line of a request, returned in the X-Request-ID header.

RequestIdMiddleware (first in settings.MIDDLEWARE and in the lean /api/ handler) takes the
caller's X-Request-ID when it is well formed (a proxy's or a runtime's id, so one id follows the
request through every hop), else makes one, and holds it in a context variable for the request.
Every log record then carries it as `request_id` ("-" outside a request: commands, workers), so
the LOGGING format can print it; gunicorn's access log reads it back from the response header
(gunicorn.conf.py).
"""

import logging
import re
import uuid
from contextvars import ContextVar

from django.core.signals import request_finished
from django.dispatch import receiver

HEADER = "X-Request-ID"
NONE = "-"
_WELL_FORMED = re.compile(r"[A-Za-z0-9._-]{1,64}")

request_id: ContextVar[str] = ContextVar("request_id", default=NONE)


def current() -> str:
    """The id of the request being answered, "-" outside one."""
    return request_id.get()


def _id_for(request) -> str:
    given = request.META.get("HTTP_X_REQUEST_ID", "")
    return given if _WELL_FORMED.fullmatch(given) else uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Held until the response is closed (request_finished below), not only while the
        # middleware runs: Django logs a 4xx/5xx after the middleware chain returns, and a
        # streamed body is read after that.
        request.request_id = _id_for(request)
        request_id.set(request.request_id)
        response = self.get_response(request)
        response[HEADER] = request.request_id
        return response


@receiver(request_finished, dispatch_uid="requestid.clear")
def _clear(**kwargs):
    request_id.set(NONE)


class RequestIdFilter(logging.Filter):
    """For LOGGING's handlers: makes sure a record has `request_id` (one made before the record
    factory below was installed has none)."""

    def filter(self, record):
        if not hasattr(record, "request_id"):
            record.request_id = current()
        return True


def _install_record_factory() -> None:
    """Every record gets `request_id` when it is made, whichever handler (a test's caplog, a
    library's) receives it."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, "adds_request_id", False):
        return

    def with_request_id(*args, **kwargs):
        record = factory(*args, **kwargs)
        record.request_id = current()
        return record

    with_request_id.adds_request_id = True
    logging.setLogRecordFactory(with_request_id)


_install_record_factory()
