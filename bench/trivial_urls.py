"""The project's URLs plus /bench/trivial: the cheapest JSON response the same server can give,
the baseline the runtime endpoint is compared against."""

from django.http import JsonResponse
from django.urls import path

from config.urls import urlpatterns as project_urlpatterns


def trivial(request):
    return JsonResponse({"ok": True})


urlpatterns = [path("bench/trivial", trivial), *project_urlpatterns]
