from django.urls import path

from . import api

app_name = "calls_api"
urlpatterns = [
    path("numbers/<str:number>/route", api.route, name="route"),
    path("calls", api.report, name="calls"),
    path("calls/<int:pk>", api.call_detail, name="call"),
]
