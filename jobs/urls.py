from django.urls import path

from . import views

app_name = "jobs"
urlpatterns = [
    path("", views.job_list, name="list"),
    path("deleted/", views.job_deleted_list, name="deleted"),
    path("new/", views.job_new, name="new"),
    path("new/edit/", views.job_create, name="create"),
    path("<int:pk>/", views.job_detail, name="detail"),
    path("<int:pk>/edit/", views.job_edit, name="edit"),
    path("<int:pk>/delete/", views.job_delete, name="delete"),
    path("<int:pk>/restore/", views.job_restore, name="restore"),
    path("<int:pk>/save-as-template/", views.template_from_job, name="template_from_job"),
    path("<int:pk>/optimize/", views.job_optimize, name="optimize"),
    path("<int:pk>/undo-optimize/", views.job_undo_optimize, name="undo_optimize"),
    path("<int:pk>/history/", views.job_history, name="history"),
    path("<int:pk>/history/compare/", views.job_compare, name="compare"),
    path(
        "<int:pk>/history/<int:version_id>/restore/",
        views.job_version_restore,
        name="version_restore",
    ),
    path("<int:pk>/conflict/", views.job_conflict_resolve, name="conflict"),
    path("templates/<int:pk>/delete/", views.template_delete, name="template_delete"),
]
