"""The Alerts page (open alerts first, then recent), acknowledging and resolving, the rules and
the "Email me alerts" choice. Every lookup starts from the request's workspace: another
workspace's alert is a 404."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Value, When
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from calls.selectors.log import newest_cursor
from core.errors import error_messages
from core.forms import add_service_errors
from workspaces.permissions import EDIT, workspace_view

from . import home as home_selectors
from . import services
from .forms import AlertRulesForm
from .models import Alert, AlertRule, RuleKind, ensure_rules

PAGE_SIZE = 25


def _rules(workspace) -> list[AlertRule]:
    """The workspace's rules in the kinds' order (made if missing: a workspace created without
    the post_save receiver, e.g. by bulk_create or a fixture)."""
    rules = list(AlertRule.objects.filter(workspace=workspace))
    if len(rules) < len(RuleKind.values):
        ensure_rules(workspace.pk)
        rules = list(AlertRule.objects.filter(workspace=workspace))
    return sorted(rules, key=lambda rule: RuleKind.values.index(rule.kind))


@workspace_view()
def home(request):
    """The workspace's home: the getting-started checklist until every step is done (or the
    person hides it), then how Sona is doing. A fixed number of queries (outcomes/home.py)."""
    checklist = home_selectors.checklist(request.workspace)
    context = {
        "checklist": checklist,
        "health": home_selectors.health(request.workspace),
        "can_edit": request.membership.can_edit,
        "poll_since": newest_cursor(workspace=request.workspace),
        "poll_seconds": settings.NEW_CALLS_POLL_SECONDS,
    }
    return render(request, "outcomes/home.html", context)


@workspace_view()
def alert_list(request):
    alerts = (
        Alert.objects.filter(workspace=request.workspace)
        .select_related("rule", "acknowledged_by", "resolved_by")
        .annotate(
            closed=Case(
                When(resolved_at__isnull=True, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("closed", "-raised_at", "-id")
    )
    page = Paginator(alerts, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "rules": _rules(request.workspace),
        "can_edit": request.membership.can_edit,
        "membership": request.membership,
    }
    return render(request, "outcomes/alert_list.html", context)


def _alert(request, pk) -> Alert:
    return get_object_or_404(
        Alert.objects.select_related("workspace"), workspace=request.workspace, pk=pk
    )


def _act(request, pk, service, done: str):
    alert = _alert(request, pk)
    try:
        service(alert=alert, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(error_messages(exc)))
    else:
        messages.success(request, done)
    return redirect("outcomes:alerts")


@require_POST
@workspace_view(EDIT)
def alert_acknowledge(request, pk):
    return _act(request, pk, services.alert_acknowledge, "Alert acknowledged.")


@require_POST
@workspace_view(EDIT)
def alert_resolve(request, pk):
    return _act(request, pk, services.alert_resolve, "Alert resolved.")


@require_POST
@workspace_view(EDIT)
def alert_emails(request):
    enabled = request.POST.get("alert_emails") == "on"
    services.alert_emails_set(workspace=request.workspace, user=request.user, enabled=enabled)
    messages.success(
        request,
        "You will get an email when an alert is raised."
        if enabled
        else "You will no longer get alert emails.",
    )
    return redirect("outcomes:alerts")


@workspace_view()
def alert_rules(request):
    """Every member sees the rules; owners change them (the service decides: an admin's POST
    passes the page's check and is refused by the service)."""
    rules = _rules(request.workspace)
    posted = request.POST if request.method == "POST" else None
    form = AlertRulesForm(posted, rules=rules)
    if not request.membership.is_owner:  # shown, not editable (the service refuses anyway)
        for field in form.fields.values():
            field.disabled = True
    if posted is not None and form.is_valid():
        try:
            services.alert_rules_update(
                workspace=request.workspace, user=request.user, values=form.values()
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Alert rules saved.")
            return redirect("outcomes:rules")
    context = {"form": form, "can_change": request.membership.is_owner}
    return render(request, "outcomes/rules.html", context, status=400 if form.errors else 200)
