"""Sign-in protection: how django-axes counts failures and what a locked person sees.

The rule itself is axes' (config/settings/base.py: 5 failures for one account from one address
lock that pair for 15 minutes). These are the callables it is configured with, and the reset
page that also lifts a lockout.
"""

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import PasswordResetConfirmView
from django.shortcuts import render

from .clients import client_address


def axes_username(request, credentials) -> str:
    """The account a failure counts against: "Ann@X.test " and "ann@x.test" are one account,
    so changing the case does not buy a guesser 5 more tries. Unknown emails count alike."""
    if credentials:
        username = credentials.get(settings.AXES_USERNAME_FORM_FIELD)
    else:
        username = request.POST.get(settings.AXES_USERNAME_FORM_FIELD)
    return (username or "").strip().lower()[:255]


def axes_client_ip(request) -> str:
    return client_address(request.META)


def lockout_message() -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return (
        "Too many failed attempts for this account from your network. "
        f"Try again in {minutes} minutes, or reset your password."
    )


def lockout_response(request, original_response=None, credentials=None):
    """The login page again, with the lockout message (also for the admin's login: its form
    posts the same fields back to the same address)."""
    form = AuthenticationForm(request, initial={"username": axes_username(request, credentials)})
    context = {
        "form": form,
        "lockout": lockout_message(),
        "next": request.POST.get("next", request.GET.get("next", "")),
    }
    return render(request, "registration/login.html", context, status=429)


def signin_unlock(*, user) -> int:
    """Lift every lockout of this account: who could reset the password may try it at once."""
    return axes_reset(username=user.email.lower())


class ResetConfirmView(PasswordResetConfirmView):
    """Django's reset page; a new password also lifts the account's lockouts."""

    def form_valid(self, form):
        response = super().form_valid(form)
        signin_unlock(user=form.user)
        return response
