from django.urls import path

from . import views

app_name = "workspaces"
urlpatterns = [
    path("switch/", views.workspace_switch, name="switch"),
    path("members/", views.member_list, name="members"),
    path("members/invite/", views.member_invite, name="invite"),
    path("members/<int:pk>/role/", views.member_role, name="role"),
    path("members/<int:pk>/remove/", views.member_remove, name="remove"),
    path("invitations/", views.invitation_list, name="invitations"),
    path("invitations/<int:pk>/resend/", views.invitation_resend, name="invitation_resend"),
    path("invitations/<int:pk>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("tokens/", views.token_list, name="tokens"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("activity/", views.activity, name="activity"),
    path("settings/", views.workspace_settings, name="settings"),
]
