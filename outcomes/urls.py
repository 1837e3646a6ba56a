from django.urls import path

from . import views

app_name = "outcomes"
urlpatterns = [
    path("", views.alert_list, name="alerts"),
    path("rules/", views.alert_rules, name="rules"),
    path("email/", views.alert_emails, name="email"),
    path("<int:pk>/acknowledge/", views.alert_acknowledge, name="acknowledge"),
    path("<int:pk>/resolve/", views.alert_resolve, name="resolve"),
]
