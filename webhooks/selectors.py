"""Reads of webhooks, always from a workspace."""

from django.db.models import QuerySet

from .models import WebhookDelivery, WebhookEndpoint


def endpoints(workspace) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(workspace=workspace).select_related("created_by")


def endpoint_deliveries(endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    """The delivery log, newest first (the webhook_delivery_log index)."""
    return WebhookDelivery.objects.filter(endpoint=endpoint).order_by("-at", "-id")
