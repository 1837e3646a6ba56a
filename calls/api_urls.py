"""The runtime API's addresses: the operations of calls/api.py's NinjaAPI, under the names the
code and tests reverse (calls_api:route, calls_api:calls, calls_api:call and api:live, which
config/urls.py includes under the "api" namespace), its document and its docs page.

The patterns are written here, not taken from ninja, to keep the addresses as they were: a
call's id is <str:pk> (anything else than an id is an unknown call), and a method an address
does not take is the API's JSON 405 with Allow (core/jsonapi.py), not ninja's text one."""

from functools import wraps

from django.http import HttpResponseNotAllowed
from django.urls import path

from core import jsonapi

from . import api_docs
from .api import api

_views = {p.name: p.callback for p in api.urls[0] if p.name}


def json_405(view, **renamed):
    @wraps(view)
    def inner(request, *args, **kwargs):
        for old, new in renamed.items():
            kwargs[new] = kwargs.pop(old)
        response = view(request, *args, **kwargs)
        if isinstance(response, HttpResponseNotAllowed):
            return jsonapi.method_not_allowed(sorted(response["Allow"].split(", ")))
        return response

    inner.csrf_exempt = True  # a bearer-token API; the runtime has no cookies to forge
    return inner


app_name = "calls_api"
urlpatterns = [
    path("numbers/<str:number>/route", json_405(_views["route"]), name="route"),
    path("calls", json_405(_views["calls"]), name="calls"),
    path("calls/<str:pk>", json_405(_views["call"], pk="id"), name="call"),
    path("openapi.json", api_docs.openapi_json, name="openapi"),
    path("docs", api_docs.docs, name="docs"),
]
# Included by config/urls.py as the "api" namespace (api:live), its name since before ninja.
live_urlpatterns = [
    path("numbers/<str:number>/live", json_405(_views["live"]), name="live"),
]
