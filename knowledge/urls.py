from django.urls import path

from workspaces.documents.views import document_urls

from . import views

app_name = "knowledge"
urlpatterns = [
    path("new/", views.page_create, name="create"),
    path("upload/", views.page_upload, name="upload"),
    path("import/", views.page_import_url, name="import_url"),
    path("imports/<int:pk>/", views.import_run_detail, name="import_run"),
    *document_urls(
        views.PAGES, library=views.page_list, detail=views.page_detail, edit=views.page_edit
    ),
]
