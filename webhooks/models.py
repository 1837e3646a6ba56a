"""Webhook endpoints of a workspace, the outbox of messages to deliver, and the delivery log.

One outbox row per endpoint per event (written by webhooks.outbox.emit in the event's
transaction): each endpoint's message has its own tries and due time, so a slow or broken
endpoint never delays another, and a worker claims exactly one (endpoint, message) at a time.
The row stays after its last try (next_try_at empty) as the message a delivery log entry and
**Resend** refer to. Message ids (the `webhook-id` header) are per event: every endpoint, every
retry and a resend of one event carry the same id, so a receiver can drop a duplicate.
"""

from django.conf import settings
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import GreaterThan, LessThanOrEqual
from simple_history.models import HistoricalRecords

from workspaces.models import Workspace

# The events an endpoint may subscribe to, and that emit() accepts: the one list.
EVENTS = ("call.reported", "callflow.published", "alert.raised")
EVENT_LABELS = {
    "call.reported": "A call was reported by the telephony runtime",
    "callflow.published": "A call flow version went live (publish or rollback)",
    "alert.raised": "An outcome alert was raised",
}
URL_MAX = 2000
DESCRIPTION_MAX = 500
EXCERPT_MAX = 500


class WebhookEndpoint(models.Model):
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.CharField(max_length=URL_MAX)
    description = models.CharField(max_length=DESCRIPTION_MAX, blank=True)
    events = models.JSONField(default=list, help_text="Event names, from webhooks.models.EVENTS.")
    # The signing secrets (whsec_…): needed in the clear to sign, never shown after creation or
    # rotation, never in history or the admin. The previous one signs too until it expires.
    secret = models.CharField(max_length=100)
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    enabled = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    # The first failed try since the last delivered one; empty while deliveries succeed.
    failing_since = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(
        excluded_fields=["secret", "previous_secret", "failing_since", "updated_at"],
        cascade_delete_history=False,
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["workspace", "enabled"], name="webhook_ws_enabled")]
        constraints = [
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("url"), URL_MAX) & GreaterThan(Length("url"), 0),
                name="webhook_url_len",
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("description"), DESCRIPTION_MAX),
                name="webhook_description_max_len",
            ),
            models.CheckConstraint(
                condition=models.Q(secret__startswith="whsec_"), name="webhook_secret_whsec"
            ),
            # Enabled, or disabled with the time it happened.
            models.CheckConstraint(
                condition=models.Q(enabled=True, disabled_at__isnull=True)
                | models.Q(enabled=False, disabled_at__isnull=False),
                name="webhook_disabled_at_iff_disabled",
            ),
        ]

    def __str__(self):
        return self.url[:100]

    @property
    def label(self) -> str:
        return self.description or self.url[:100]


class WebhookOutbox(models.Model):
    """A message to deliver to one endpoint: due at next_try_at (empty: delivered or given up)."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="outbox")
    event = models.CharField(max_length=50)
    message_id = models.CharField(max_length=64)
    payload = models.TextField(help_text="The JSON body, exactly as signed and sent.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)  # the daily prune
    next_try_at = models.DateTimeField(null=True, blank=True)
    tries = models.PositiveIntegerField(default=0)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "webhook outbox message"
        ordering = ["-pk"]
        indexes = [
            # The beat's scan of due rows: only pending rows are in it.
            models.Index(
                fields=["next_try_at"],
                name="webhook_outbox_due",
                condition=models.Q(next_try_at__isnull=False),
            )
        ]

    def __str__(self):
        return f"{self.event} {self.message_id}"


class WebhookDelivery(models.Model):
    """One try: what the endpoint answered (or why it could not), and how long it took."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    outbox = models.ForeignKey(WebhookOutbox, on_delete=models.CASCADE, related_name="deliveries")
    message_id = models.CharField(max_length=64)
    event = models.CharField(max_length=50)
    attempt = models.PositiveIntegerField()
    succeeded = models.BooleanField(default=False)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    response_excerpt = models.CharField(max_length=EXCERPT_MAX, blank=True)
    error = models.CharField(max_length=EXCERPT_MAX, blank=True)
    at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "webhook deliveries"
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["endpoint", "-at", "-id"], name="webhook_delivery_log")]

    def __str__(self):
        return f"{self.event} {self.message_id} try {self.attempt}"
