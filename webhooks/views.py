"""Webhook pages, for owners only (like API tokens: an endpoint sends the workspace's call data
out, and its log shows what outside systems answered). Admins and members get the 403 page."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.errors import error_messages
from core.forms import add_service_errors
from workspaces.permissions import OWN, workspace_view

from . import selectors, services
from .forms import EndpointEditForm, EndpointForm
from .models import WebhookDelivery, WebhookEndpoint

PAGE_SIZE = 50


def _endpoint(request, pk) -> WebhookEndpoint:
    return get_object_or_404(
        WebhookEndpoint.objects.select_related("created_by"), pk=pk, workspace=request.workspace
    )


@workspace_view(OWN)
def endpoint_list(request):
    """The endpoints, and the form to add one; the new secret is shown on the answer once."""
    created = None
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = services.webhook_add(
                workspace=request.workspace, user=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            form = EndpointForm()  # rendered, not redirected: the secret is on this page only
    page = Paginator(selectors.endpoints(request.workspace), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {"page": page, "form": form, "created": created}
    return render(request, "webhooks/endpoint_list.html", context, status=200)


def _detail(request, endpoint, *, form=None, secret: str = "", status: int = 200):
    now = timezone.now()
    log = Paginator(selectors.endpoint_deliveries(endpoint), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    form = form or EndpointEditForm(
        initial={"events": endpoint.events, "description": endpoint.description}
    )
    context = {
        "endpoint": endpoint,
        "form": form,
        "page": log,
        "secret": secret,
        "previous_valid_until": (
            endpoint.previous_secret_expires_at
            if endpoint.previous_secret_expires_at and endpoint.previous_secret_expires_at > now
            else None
        ),
    }
    return render(request, "webhooks/endpoint_detail.html", context, status=status)


@workspace_view(OWN)
def endpoint_detail(request, pk):
    """The endpoint, its events and description (editable), and its delivery log."""
    endpoint = _endpoint(request, pk)
    if request.method != "POST":
        return _detail(request, endpoint)
    form = EndpointEditForm(request.POST)
    if form.is_valid():
        try:
            services.webhook_update(endpoint=endpoint, user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Webhook saved.")
            return redirect("webhooks:detail", pk=endpoint.pk)
    return _detail(request, endpoint, form=form)


@workspace_view(OWN)
def endpoint_rotate(request, pk):
    """GET: what rotating does. The confirming POST shows the new secret, once."""
    endpoint = _endpoint(request, pk)
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        new = services.webhook_rotate_secret(endpoint=endpoint, user=request.user)
        return _detail(request, new.endpoint, secret=new.secret)
    return _confirm(
        request,
        endpoint,
        f"Rotate the secret of {endpoint.url}?",
        "A new secret is shown once. For the next 24 hours every delivery is signed with "
        "both the new and the old secret, so the receiver keeps accepting them while you "
        "give it the new one; after that, only the new secret signs.",
    )


def _confirm(request, endpoint, title: str, line: str):
    """The shared confirmation page (confirm.html) for an action on the endpoint."""
    context = {
        "title": title,
        "lines": [line],
        "hidden": {},
        "refusal": "",
        "cancel_url": reverse("webhooks:detail", args=[endpoint.pk]),
    }
    return render(request, "confirm.html", context)


@require_POST
@workspace_view(OWN)
def endpoint_disable(request, pk):
    endpoint = _endpoint(request, pk)
    services.webhook_disable(endpoint=endpoint, user=request.user)
    messages.success(request, "Webhook disabled: no events are sent to it until it is enabled.")
    return redirect("webhooks:detail", pk=endpoint.pk)


@require_POST
@workspace_view(OWN)
def endpoint_enable(request, pk):
    endpoint = _endpoint(request, pk)
    services.webhook_enable(endpoint=endpoint, user=request.user)
    messages.success(request, "Webhook enabled: events that waited are delivered now.")
    return redirect("webhooks:detail", pk=endpoint.pk)


@workspace_view(OWN)
def endpoint_delete(request, pk):
    """GET, or a POST without the confirmation: what is lost. The confirming POST deletes."""
    endpoint = _endpoint(request, pk)
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        services.webhook_delete(endpoint=endpoint, user=request.user)
        messages.success(request, f"Webhook {endpoint.url} deleted.")
        return redirect("webhooks:list")
    return _confirm(
        request,
        endpoint,
        f"Delete the webhook {endpoint.url}?",
        "No more events are sent to it; messages still waiting are dropped, and its "
        "delivery log is deleted. To pause deliveries instead, disable it.",
    )


@require_POST
@workspace_view(OWN)
def delivery_resend(request, pk, delivery_id):
    endpoint = _endpoint(request, pk)
    delivery = get_object_or_404(
        WebhookDelivery.objects.select_related("outbox", "endpoint__workspace"),
        pk=delivery_id,
        endpoint=endpoint,
    )
    try:
        services.webhook_resend(delivery=delivery, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(error_messages(exc)))
    else:
        messages.success(request, f"Message {delivery.message_id} queued to be sent again.")
    return redirect("webhooks:detail", pk=endpoint.pk)
