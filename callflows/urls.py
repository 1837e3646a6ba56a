from django.urls import path

from . import attach_views, views

app_name = "callflows"
urlpatterns = [
    path("", views.number_list, name="list"),
    path("deleted/", views.number_deleted_list, name="deleted"),
    path("<int:pk>/", views.editor, name="editor"),
    path("<int:pk>/rename/", views.number_rename, name="rename"),
    path("<int:pk>/delete/", views.number_delete, name="delete"),
    path("<int:pk>/restore/", views.number_restore, name="restore"),
    path("<int:pk>/sms/", views.number_sms, name="sms"),
    path("<int:pk>/steps/add/", views.step_add, name="step_add"),
    path("<int:pk>/steps/<int:step_id>/", views.step_edit, name="step_edit"),
    path("<int:pk>/steps/<int:step_id>/move/", views.step_move, name="step_move"),
    path("<int:pk>/steps/<int:step_id>/remove/", views.step_remove, name="step_remove"),
    path("<int:pk>/steps/<int:step_id>/jobs/", attach_views.step_jobs, name="step_jobs"),
    path("<int:pk>/steps/<int:step_id>/jobs/new/", views.step_new_job, name="step_new_job"),
    path("<int:pk>/steps/<int:step_id>/attach/", attach_views.job_attach, name="attach"),
    path("<int:pk>/steps/<int:step_id>/detach/", attach_views.job_detach, name="detach"),
    path("<int:pk>/steps/<int:step_id>/job-move/", attach_views.job_move, name="job_move"),
    path(
        "<int:pk>/steps/<int:step_id>/knowledge/",
        attach_views.step_knowledge,
        name="step_knowledge",
    ),
    path(
        "<int:pk>/steps/<int:step_id>/knowledge/attach/",
        attach_views.knowledge_attach,
        name="knowledge_attach",
    ),
    path(
        "<int:pk>/steps/<int:step_id>/knowledge/detach/",
        attach_views.knowledge_detach,
        name="knowledge_detach",
    ),
    path(
        "<int:pk>/steps/<int:step_id>/knowledge/move/",
        attach_views.knowledge_move,
        name="knowledge_move",
    ),
    path("<int:pk>/publish/", views.publish, name="publish"),
    path("<int:pk>/versions/", views.versions, name="versions"),
    path("<int:pk>/versions/<int:version_id>/", views.version_detail, name="version_detail"),
    path(
        "<int:pk>/versions/<int:version_id>/compare/",
        views.version_compare,
        name="version_compare",
    ),
    path("<int:pk>/versions/<int:version_id>/rollback/", views.rollback, name="rollback"),
]
