from django.urls import path

from . import api

app_name = "api"
urlpatterns = [
    path("numbers/<str:number>/live", api.live_config, name="live"),
]
