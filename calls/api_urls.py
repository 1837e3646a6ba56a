from django.urls import path

from . import api, api_docs

app_name = "calls_api"
urlpatterns = [
    path("numbers/<str:number>/route", api.route, name="route"),
    path("calls", api.report, name="calls"),
    # <str:…> like /live's number: anything else than an id is an unknown call (JSON 404).
    path("calls/<str:pk>", api.call_detail, name="call"),
    path("openapi.json", api_docs.openapi_json, name="openapi"),
    path("docs", api_docs.docs, name="docs"),
]
