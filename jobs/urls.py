from django.urls import path

from workspaces.documents.views import document_urls

from . import views

app_name = "jobs"
urlpatterns = [
    *document_urls(
        views.PAGES, library=views.job_list, detail=views.job_detail, edit=views.job_edit
    ),
    path("new/", views.job_new, name="new"),
    path("new/edit/", views.job_create, name="create"),
    path("<int:pk>/save-as-template/", views.template_from_job, name="template_from_job"),
    path("<int:pk>/optimize/", views.job_optimize, name="optimize"),
    path("<int:pk>/undo-optimize/", views.job_undo_optimize, name="undo_optimize"),
    path("<int:pk>/conflict/", views.job_conflict_resolve, name="conflict"),
    path("templates/<int:pk>/delete/", views.template_delete, name="template_delete"),
]
