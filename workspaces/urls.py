from django.urls import path

from . import views

app_name = "workspaces"
urlpatterns = [
    path("switch/", views.workspace_switch, name="switch"),
    path("members/", views.member_list, name="members"),
    path("members/invite/", views.member_invite, name="invite"),
    path("members/<int:pk>/role/", views.member_role, name="role"),
    path("members/<int:pk>/remove/", views.member_remove, name="remove"),
    path("tokens/", views.token_list, name="tokens"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("activity/", views.activity, name="activity"),
]
