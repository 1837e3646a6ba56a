"""Support staff see endpoints, the outbox and the log; their actions go through the services
(as staff, attributed to them); no secret is ever shown."""

import pytest
from django.urls import reverse

from tests.factories import WebhookEndpointFactory
from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookOutbox
from workspaces.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivered(workspace, owner):
    endpoint = WebhookEndpointFactory(workspace=workspace)
    message = endpoint.outbox.create(event="alert.raised", message_id="msg_1", payload="{}")
    WebhookDelivery.objects.create(
        endpoint=endpoint,
        outbox=message,
        message_id="msg_1",
        event="alert.raised",
        attempt=1,
        status_code=500,
        at=endpoint.created_at,
    )
    return endpoint


def test_the_pages_show_no_secret(staff_client, delivered):
    delivered.previous_secret = "whsec_" + "b" * 43
    delivered.save()
    for name in ("webhookendpoint", "webhookoutbox", "webhookdelivery"):
        response = staff_client.get(reverse(f"admin:webhooks_{name}_changelist"))
        assert response.status_code == 200
    for url in (
        reverse("admin:webhooks_webhookendpoint_change", args=[delivered.pk]),
        reverse("admin:webhooks_webhookendpoint_history", args=[delivered.pk]),
    ):
        body = staff_client.get(url).content.decode()
        assert delivered.secret not in body and delivered.previous_secret not in body
        assert delivered.url in body


def test_staff_disable_and_enable_through_the_services(staff_client, staff, delivered):
    url = reverse("admin:webhooks_webhookendpoint_changelist")
    staff_client.post(url, {"action": "disable_selected", "_selected_action": [delivered.pk]})
    endpoint = WebhookEndpoint.objects.get()
    assert not endpoint.enabled
    assert endpoint.history.latest("history_id").history_user == staff
    event = AuditEvent.objects.get(action="webhook.disabled")
    assert (event.actor, event.via_support) == (staff, True)
    staff_client.post(url, {"action": "enable_selected", "_selected_action": [delivered.pk]})
    assert WebhookEndpoint.objects.get().enabled


def test_staff_resend(staff_client, delivered):
    url = reverse("admin:webhooks_webhookdelivery_changelist")
    delivery = WebhookDelivery.objects.get()
    staff_client.post(url, {"action": "resend_selected", "_selected_action": [delivery.pk]})
    assert list(WebhookOutbox.objects.values_list("message_id", flat=True)) == ["msg_1", "msg_1"]


def test_staff_do_not_delete_endpoints(staff_client, delivered):
    """Owners delete (the page, webhook_delete); staff disable, which keeps the log."""
    url = reverse("admin:webhooks_webhookendpoint_delete", args=[delivered.pk])
    assert staff_client.post(url, {"post": "yes"}).status_code == 403
    assert WebhookEndpoint.objects.exists()
