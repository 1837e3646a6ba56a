from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from calls import api_urls as runtime_api_urls
from config import health
from outcomes import views as outcome_views
from workspaces import views as workspace_views
from workspaces.signin import ResetConfirmView, SigninView


class FaviconView(RedirectView):
    """Browsers ask for /favicon.ico whatever the page links: send them to the SVG one."""

    permanent = False  # the hashed static name changes with the file

    def get_redirect_url(self, *args, **kwargs):
        return static("favicon.svg")


admin.site.site_header = "Playbook support"
admin.site.site_title = "Playbook support"
handler403 = "workspaces.views.permission_denied"
# JSON under /api/ (core/jsonapi.py), Django's pages elsewhere.
handler400 = "core.jsonapi.bad_request"
handler404 = "core.jsonapi.page_not_found"
handler500 = "core.jsonapi.server_error"

urlpatterns = [
    path("", outcome_views.home, name="home"),
    path("favicon.ico", FaviconView.as_view(), name="favicon"),
    path("healthz", health.healthz, name="healthz"),
    # Before Django's auth URLs: the reset page that also lifts a login lockout.
    path(
        "accounts/reset/<uidb64>/<token>/",
        ResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    # Before Django's auth URLs: the login page that refuses an unverified email.
    path("accounts/login/", SigninView.as_view(), name="login"),
    path("accounts/signup/", workspace_views.signup, name="signup"),
    path("accounts/signup/sent/", workspace_views.signup_sent, name="signup_sent"),
    path("accounts/signup/resend/", workspace_views.signup_resend, name="signup_resend"),
    path("accounts/verify/<str:token>/", workspace_views.signup_verify, name="signup_verify"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("workspace/", include("workspaces.urls")),
    path("invitations/<str:token>/", workspace_views.invitation_landing, name="invitation"),
    path("profile/", workspace_views.profile, name="profile"),
    path("jobs/", include("jobs.urls")),
    path("knowledge/", include("knowledge.urls")),
    path("numbers/", include("callflows.urls")),
    path("webhooks/", include("webhooks.urls")),
    path("", include("calls.urls")),
    path("alerts/", include("outcomes.urls")),
    path("api/v1/", include((runtime_api_urls.live_urlpatterns, "api"))),
    path("api/v1/", include("calls.api_urls")),
    path("api/v1/", include("outcomes.api_urls")),
    path("admin/", admin.site.urls),
]
