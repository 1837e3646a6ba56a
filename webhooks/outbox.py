"""The emit contract: what other apps call, inside the transaction of their event.

    from webhooks.outbox import emit
    emit(workspace=workspace, event="call.reported", data={...})

It writes one outbox row per enabled endpoint of the workspace subscribed to the event, in the
caller's transaction (the event and its outbox rows commit or roll back together), and queues
their delivery once that transaction commits. A workspace with no endpoint costs one indexed
query (it runs on every call report); the event filter is applied in Python to the few enabled
endpoints of the workspace, so the one query needs no JSON lookup any database would index.
"""

import json
import secrets

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from .models import EVENTS, WebhookEndpoint, WebhookOutbox
from .tasks import deliver


def new_message_id() -> str:
    return "msg_" + secrets.token_urlsafe(18)


def body(event: str, data: dict, at) -> str:
    """The message body: {"type", "timestamp", "data"} (Standard Webhooks' payload shape)."""
    message = {"type": event, "timestamp": at.isoformat().replace("+00:00", "Z"), "data": data}
    return json.dumps(message, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":"))


def queue(outbox_ids: list[int]) -> None:
    """Deliver these rows after the commit. Losing the queued task loses nothing: the rows are
    due, and the beat's deliver_due picks them up within a minute."""
    if outbox_ids:
        transaction.on_commit(lambda: [deliver.delay(pk) for pk in outbox_ids], robust=True)


def emit(*, workspace, event: str, data: dict) -> None:
    """Write the outbox rows of `event` for the workspace's subscribed, enabled endpoints."""
    if event not in EVENTS:
        raise ValueError(f"Unknown webhook event {event!r}: add it to webhooks.models.EVENTS.")
    subscribed = [
        pk
        for pk, events in WebhookEndpoint.objects.filter(
            workspace_id=workspace.pk, enabled=True
        ).values_list("pk", "events")
        if event in events
    ]
    if not subscribed:
        return
    now = timezone.now()
    message_id, payload = new_message_id(), body(event, data, now)
    rows = WebhookOutbox.objects.bulk_create(
        WebhookOutbox(
            endpoint_id=pk, event=event, message_id=message_id, payload=payload, next_try_at=now
        )
        for pk in subscribed
    )
    queue([row.pk for row in rows])
