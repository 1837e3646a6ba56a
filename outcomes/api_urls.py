"""The address of GET /api/v1/outcomes (outcomes/api.py), served by config/urls.py beside the
runtime API's, through the same JSON 405 (calls/api_urls.py)."""

from django.urls import path

from calls.api import api
from calls.api_urls import json_405

_views = {p.name: p.callback for p in api.urls[0] if p.name}

app_name = "outcomes_api"
urlpatterns = [path("outcomes", json_405(_views["outcomes"]), name="outcomes")]
