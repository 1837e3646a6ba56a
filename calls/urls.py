from django.urls import path

from . import views

app_name = "calls"
urlpatterns = [
    path("numbers/<int:pk>/steps/<int:step_id>/test/", views.test_sona, name="test_sona"),
    path("numbers/<int:pk>/steps/<int:step_id>/tests/", views.tests, name="tests"),
    path(
        "numbers/<int:pk>/steps/<int:step_id>/tests/save/",
        views.test_case_save,
        name="test_case_save",
    ),
    path(
        "numbers/<int:pk>/steps/<int:step_id>/tests/new/",
        views.scenario_new,
        name="scenario_new",
    ),
    path(
        "numbers/<int:pk>/steps/<int:step_id>/tests/<int:scenario_id>/",
        views.scenario_edit,
        name="scenario_edit",
    ),
    path(
        "numbers/<int:pk>/steps/<int:step_id>/tests/<int:scenario_id>/delete/",
        views.scenario_delete,
        name="scenario_delete",
    ),
    path("jobs/<int:job_id>/test/", views.job_test, name="job_test"),
]
urlpatterns += [
    path("calls/", views.call_list, name="list"),
    path("calls/new/", views.new_calls, name="new_calls"),
    path("calls/jobs/", views.job_options, name="job_options"),
    path("calls/export.csv", views.call_export, name="export"),
    path("calls/<int:pk>/", views.call_detail, name="detail"),
]
