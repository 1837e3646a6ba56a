"""Sign-in protection: how django-axes counts failures and what a locked person sees.

Two rules (config/settings/base.py). Per account, axes' own: 5 failures for one account from
one source lock that pair for 15 minutes. Per source, across accounts (password spraying):
SIGNIN_SOURCE_FAILURE_LIMIT failures from one source lock it out of every account, recorded
as a SourceLockout that support staff see and lift in the admin. A source is an IPv4 address
or an IPv6 /64 (core/sources.py), so rotating addresses inside a /64 buys nothing.
Both rules refuse before any password is checked. Here: the callables axes is configured with,
its handler with the source rule, and the reset page that also lifts an account's lockout.
"""

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView, PasswordResetConfirmView
from django.db.models import Count, Sum
from django.shortcuts import render
from django.utils import timezone

from core.sources import client_source

from . import services
from .forms import LoginForm
from .models import SourceLockout


def axes_username(request, credentials) -> str:
    """The account a failure counts against: "Ann@X.test " and "ann@x.test" are one account,
    so changing the case does not buy a guesser 5 more tries. Unknown emails count alike."""
    if credentials:
        username = credentials.get(settings.AXES_USERNAME_FORM_FIELD)
    else:
        username = request.POST.get(settings.AXES_USERNAME_FORM_FIELD)
    return (username or "").strip().lower()[:255]


def axes_client_ip(request) -> str:
    """The source axes counts by: an IPv4 address, or an IPv6 address's /64."""
    return client_source(request)


def source_locked(source: str | None) -> bool:
    return source is not None and SourceLockout.objects.active().filter(source=source).exists()


def _source_failures(request, source: str) -> tuple[int, int]:
    """(failures, distinct accounts) from the source within the cool-off: one query."""
    counts = AccessAttempt.objects.filter(
        ip_address=source, attempt_time__gte=get_cool_off_threshold(request)
    ).aggregate(failures=Sum("failures_since_start"), accounts=Count("username", distinct=True))
    return counts["failures"] or 0, counts["accounts"]


class SigninHandler(AxesDatabaseHandler):
    """axes' database handler, plus the per-source limit across accounts."""

    def is_locked(self, request, credentials=None) -> bool:
        return super().is_locked(request, credentials) or source_locked(
            getattr(request, "axes_ip_address", None)
        )

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        super().user_login_failed(sender, credentials, request=request, **kwargs)
        source = getattr(request, "axes_ip_address", None)
        if source is None or self.is_whitelisted(request, credentials):
            return
        failures, accounts = _source_failures(request, source)
        if failures < settings.SIGNIN_SOURCE_FAILURE_LIMIT:
            return
        # Locked, or still locked: for the cool-off after this failure, like an account.
        now = timezone.now()
        expires_at = now + settings.AXES_COOLOFF_TIME
        lockouts = SourceLockout.objects.active(now).filter(source=source)
        if not lockouts.update(expires_at=expires_at, failures=failures, accounts=accounts):
            SourceLockout.objects.create(
                source=source,
                failures=failures,
                accounts=accounts,
                locked_at=now,
                expires_at=expires_at,
            )
        request.axes_locked_out = True  # this very answer is the lockout page


def _minutes() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)


def lockout_message() -> str:
    return (
        "Too many failed attempts for this account from your network. "
        f"Try again in {_minutes()} minutes, or reset your password."
    )


def source_lockout_message() -> str:
    return (
        "Too many failed sign-ins from your network, across several accounts. "
        f"Try again in {_minutes()} minutes, or ask support to lift the block."
    )


def lockout_response(request, original_response=None, credentials=None):
    """The login page again, with the lockout message (also for the admin's login: its form
    posts the same fields back to the same address)."""
    form = AuthenticationForm(request, initial={"username": axes_username(request, credentials)})
    by_source = source_locked(getattr(request, "axes_ip_address", None))
    context = {
        "form": form,
        "lockout": source_lockout_message() if by_source else lockout_message(),
        "next": request.POST.get("next", request.GET.get("next", "")),
        "signup_open": services.signup_open(),
    }
    return render(request, "registration/login.html", context, status=429)


def signin_unlock(*, user) -> int:
    """Lift every lockout of this account: who could reset the password may try it at once."""
    return axes_reset(username=user.email.lower())


class ResetConfirmView(PasswordResetConfirmView):
    """Django's reset page; a new password also lifts the account's lockouts, and verifies an
    address still waiting (the emailed reset link proves the mailbox)."""

    def form_valid(self, form):
        response = super().form_valid(form)
        signin_unlock(user=form.user)
        services.email_verify_by_reset(account=form.user)
        return response


class SigninView(LoginView):
    """Django's login page: an unverified account is refused with a "send the link again"
    button (LoginForm); the sign-up link shows while public sign-up is open."""

    authentication_form = LoginForm

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "signup_open": services.signup_open()}
