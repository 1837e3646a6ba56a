from django.urls import path

from . import views

app_name = "knowledge"
urlpatterns = [
    path("", views.page_list, name="list"),
    path("deleted/", views.page_deleted_list, name="deleted"),
    path("new/", views.page_create, name="create"),
    path("upload/", views.page_upload, name="upload"),
    path("import/", views.page_import_url, name="import_url"),
    path("imports/<int:pk>/", views.import_run_detail, name="import_run"),
    path("<int:pk>/", views.page_detail, name="detail"),
    path("<int:pk>/edit/", views.page_edit, name="edit"),
    path("<int:pk>/delete/", views.page_delete, name="delete"),
    path("<int:pk>/restore/", views.page_restore, name="restore"),
    path("<int:pk>/history/", views.page_history, name="history"),
    path("<int:pk>/history/compare/", views.page_compare, name="compare"),
    path(
        "<int:pk>/history/<int:version_id>/restore/",
        views.page_version_restore,
        name="version_restore",
    ),
]
