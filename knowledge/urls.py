from django.urls import path

from workspaces.documents.views import document_urls

from . import views

app_name = "knowledge"
urlpatterns = [
    path("", views.page_list, name="list"),
    path("new/", views.page_create, name="create"),
    path("upload/", views.page_upload, name="upload"),
    path("import/", views.page_import_url, name="import_url"),
    path("imports/<int:pk>/", views.import_run_detail, name="import_run"),
    path("<int:pk>/", views.page_detail, name="detail"),
    path("<int:pk>/edit/", views.page_edit, name="edit"),
    *document_urls(views.PAGES),
]
