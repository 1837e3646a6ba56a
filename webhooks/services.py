"""Webhook endpoints (owners' writes) and their deliveries (a worker's).

Deliveries follow the Standard Webhooks specification: headers `webhook-id` (the message id,
the same on every try and resend), `webhook-timestamp` (the try's time, Unix seconds) and
`webhook-signature` (`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, signed by the
`standardwebhooks` package with the endpoint's `whsec_` secret; during the 24 hours after a
rotation, also with the previous secret, space-separated as the specification allows).

A try is claimed in a short transaction (the row locked with SKIP LOCKED and its due time
pushed past the try's deadline), sent outside any transaction, then recorded: so two workers
never send one row at once, no transaction stays open during the HTTP exchange, and a worker
that dies mid-try leaves a row that falls due again.
"""

import base64
import http.client
import ipaddress
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from standardwebhooks import Webhook

from core import http as outbound
from core.netsafety import is_public_address
from core.text import storable_text
from workspaces import audit
from workspaces.models import Membership, Role, User, Workspace
from workspaces.permissions import OWN, require_role

from .models import (
    DESCRIPTION_MAX,
    EVENTS,
    EXCERPT_MAX,
    URL_MAX,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookOutbox,
)

logger = logging.getLogger(__name__)

# The wait after each failed try: 7 tries over 17 h 35 min; then the message is given up (a
# person may still Resend it).
RETRY_DELAYS = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
)
MAX_TRIES = len(RETRY_DELAYS) + 1
DEADLINE = 10.0  # seconds for one whole try: DNS, connect, TLS, request, answer
LEASE = timedelta(seconds=60)  # a claimed row is not due again before this (> DEADLINE)
DISABLE_AFTER = timedelta(days=3)  # every try failing this long disables the endpoint
ROTATION_OVERLAP = timedelta(hours=24)  # the previous secret still signs this long
DUE_BATCH = 500
ACTION = "manage webhooks"
DISABLED_FAILING = "Every delivery failed for 3 days."


@dataclass(frozen=True)
class NewSecret:
    endpoint: WebhookEndpoint
    secret: str  # shown once (after creation or rotation), never again


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


# Checks -------------------------------------------------------------------------------------


def _clean_url(url: str) -> str:
    """The endpoint URL, or {"url": why}. Host names are checked at each try (what they resolve
    to may change); an address written in the URL is checked here too, for a clear message."""
    url = (url or "").strip()
    if not url:
        raise ValidationError({"url": "Enter the endpoint's URL, e.g. https://example.com/hooks."})
    if len(url) > URL_MAX:
        raise ValidationError({"url": f"A URL can be at most {URL_MAX:,} characters."})
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        raise ValidationError({"url": "A URL cannot contain spaces or control characters."})
    try:
        scheme, host, _ = outbound.split_url(url)
    except outbound.Refused as exc:
        raise ValidationError({"url": f"Not a usable URL: {exc}"}) from None
    if settings.WEBHOOK_ALLOW_PRIVATE:
        return url
    if scheme != "https":
        raise ValidationError({"url": "Use an https:// URL: webhooks carry your call data."})
    literal = "127.0.0.1" if host == "localhost" or host.endswith(".localhost") else host
    try:
        ipaddress.ip_address(literal.split("%")[0])
    except ValueError:
        return url
    if not is_public_address(literal):
        raise ValidationError(
            {
                "url": f"The address {host} is private, loopback or link-local: webhooks "
                "are delivered to public addresses only."
            }
        )
    return url


def _clean_events(events) -> list[str]:
    events = [events] if isinstance(events, str) else list(events or ())
    chosen = [e for e in EVENTS if e in events]
    unknown = sorted(set(events) - set(EVENTS))
    if unknown:
        raise ValidationError(
            {"events": f"Unknown event {unknown[0]!r}: choose from {', '.join(EVENTS)}."}
        )
    if not chosen:
        raise ValidationError({"events": "Choose at least one event."})
    return chosen


def _clean_description(description: str) -> str:
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        raise ValidationError(
            {"description": f"A description can be at most {DESCRIPTION_MAX} characters."}
        )
    return description


def _save(endpoint: WebhookEndpoint, user, reason: str) -> None:
    endpoint._history_user = user
    endpoint._change_reason = reason
    endpoint.save()


def _audit(user, endpoint: WebhookEndpoint, action: str, **details) -> None:
    audit.record(
        user=user,
        workspace=endpoint.workspace,
        action=action,
        obj=endpoint,
        label=endpoint.url[:200],
        details=details,
    )


def _lock(endpoint: WebhookEndpoint) -> WebhookEndpoint:
    return (
        WebhookEndpoint.objects.select_for_update().select_related("workspace").get(pk=endpoint.pk)
    )


# Owners' writes -----------------------------------------------------------------------------


@audit.write_service
def webhook_add(
    *, workspace: Workspace, user: User, url: str, events, description: str = ""
) -> NewSecret:
    """A new endpoint and its secret, which is shown once."""
    require_role(user, workspace, OWN, ACTION)
    errors = {}
    for check, value in ((_clean_url, url), (_clean_events, events)):
        try:
            check(value)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    try:
        description = _clean_description(description)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    secret = new_secret()
    endpoint = WebhookEndpoint(
        workspace=workspace,
        url=_clean_url(url),
        description=description,
        events=_clean_events(events),
        secret=secret,
        created_by=user,
    )
    _save(endpoint, user, "Added")
    _audit(user, endpoint, "webhook.added", events=endpoint.events)
    return NewSecret(endpoint, secret)


@audit.write_service
def webhook_update(
    *, endpoint: WebhookEndpoint, user: User, events, description: str
) -> WebhookEndpoint:
    """Change the events and description (a new URL is a new endpoint, with its own secret)."""
    require_role(user, endpoint.workspace, OWN, ACTION)
    events, description = _clean_events(events), _clean_description(description)
    endpoint = _lock(endpoint)
    before = {"events": endpoint.events, "description": endpoint.description}
    after = {"events": events, "description": description}
    if before == after:
        return endpoint
    endpoint.events, endpoint.description = events, description
    _save(endpoint, user, "Edited")
    _audit(user, endpoint, "webhook.updated", before=before, after=after)
    return endpoint


@audit.write_service
def webhook_rotate_secret(*, endpoint: WebhookEndpoint, user: User) -> NewSecret:
    """A new secret; the one it replaces keeps signing (beside it) for 24 hours."""
    require_role(user, endpoint.workspace, OWN, ACTION)
    endpoint = _lock(endpoint)
    secret = new_secret()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = timezone.now() + ROTATION_OVERLAP
    endpoint.secret = secret
    _save(endpoint, user, "Secret rotated")
    _audit(
        user,
        endpoint,
        "webhook.rotated",
        previous_valid_until=str(endpoint.previous_secret_expires_at),
    )
    return NewSecret(endpoint, secret)


@audit.write_service
def webhook_disable(*, endpoint: WebhookEndpoint, user: User) -> WebhookEndpoint:
    """Stop deliveries; messages still due wait, and go out once it is enabled again."""
    require_role(user, endpoint.workspace, OWN, ACTION)
    endpoint = _lock(endpoint)
    if endpoint.enabled:
        _set_disabled(endpoint, user, "Disabled by an owner.")
    return endpoint


def _set_disabled(endpoint: WebhookEndpoint, user, why: str) -> None:
    endpoint.enabled, endpoint.disabled_at, endpoint.disabled_reason = False, timezone.now(), why
    _save(endpoint, user, why)
    _audit(user, endpoint, "webhook.disabled", reason=why)


@audit.write_service
def webhook_enable(*, endpoint: WebhookEndpoint, user: User) -> WebhookEndpoint:
    """Deliver again, starting with the messages that waited (their tries are counted anew)."""
    require_role(user, endpoint.workspace, OWN, ACTION)
    endpoint = _lock(endpoint)
    if endpoint.enabled:
        return endpoint
    endpoint.enabled, endpoint.disabled_at, endpoint.disabled_reason = True, None, ""
    endpoint.failing_since = None
    _save(endpoint, user, "Enabled")
    _audit(user, endpoint, "webhook.enabled")
    return endpoint


@audit.write_service
def webhook_delete(*, endpoint: WebhookEndpoint, user: User) -> None:
    """Delete the endpoint with its messages and delivery log (its history stays)."""
    require_role(user, endpoint.workspace, OWN, ACTION)
    endpoint = _lock(endpoint)
    _audit(user, endpoint, "webhook.deleted", events=endpoint.events)
    endpoint._history_user = user
    endpoint._change_reason = "Deleted"
    endpoint.delete()


@audit.write_service
def webhook_resend(*, delivery: WebhookDelivery, user: User) -> WebhookOutbox:
    """Send a delivered (or failed) message again: a new outbox row with the same message id and
    body, due now, with a fresh count of tries."""
    from .tasks import deliver  # the tasks call the services back (the usual Celery shape)

    endpoint = delivery.endpoint
    require_role(user, endpoint.workspace, OWN, ACTION)
    endpoint = _lock(endpoint)
    if not endpoint.enabled:
        raise ValidationError("This endpoint is disabled: enable it first, then resend.")
    message = delivery.outbox
    row = WebhookOutbox.objects.create(
        endpoint=endpoint,
        event=message.event,
        message_id=message.message_id,
        payload=message.payload,
        next_try_at=timezone.now(),
    )
    _audit(user, endpoint, "webhook.resent", message_id=message.message_id, event=message.event)
    transaction.on_commit(lambda: deliver.delay(row.pk), robust=True)
    return row


# Deliveries (a worker; no person acts) ------------------------------------------------------


def webhook_due_ids(*, now=None) -> list[int]:
    """Rows due now on enabled endpoints, the longest waiting first."""
    now = now or timezone.now()
    return list(
        WebhookOutbox.objects.filter(next_try_at__lte=now, endpoint__enabled=True)
        .order_by("next_try_at")
        .values_list("pk", flat=True)[:DUE_BATCH]
    )


def webhook_prune(*, now=None, batch: int = 1000) -> int:
    """Daily: delete messages finished (delivered or given up) more than WEBHOOK_LOG_DAYS ago,
    with their delivery log, in short batches (each its own transaction). Returns how many."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.WEBHOOK_LOG_DAYS)
    done = 0
    while True:
        ids = list(
            WebhookOutbox.objects.filter(created_at__lt=cutoff, next_try_at__isnull=True)
            .order_by("created_at")
            .values_list("pk", flat=True)[:batch]
        )
        if not ids:
            return done
        with transaction.atomic():
            WebhookDelivery.objects.filter(outbox_id__in=ids).delete()
            deleted, _ = WebhookOutbox.objects.filter(pk__in=ids, next_try_at__isnull=True).delete()
        done += deleted


def _claim(outbox_id: int) -> WebhookOutbox | None:
    with transaction.atomic():
        row = (
            WebhookOutbox.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint")
            .filter(pk=outbox_id, next_try_at__lte=timezone.now(), endpoint__enabled=True)
            .first()
        )
        if row is None:
            return None
        if row.tries >= MAX_TRIES:  # its last try never got recorded (a killed worker)
            row.next_try_at = None
            row.save(update_fields=["next_try_at"])
            return None
        row.tries += 1
        row.next_try_at = timezone.now() + LEASE
        row.save(update_fields=["tries", "next_try_at"])
        return row


def signing_secrets(endpoint: WebhookEndpoint, now) -> list[str]:
    found = [endpoint.secret]
    if endpoint.previous_secret and (endpoint.previous_secret_expires_at or now) > now:
        found.append(endpoint.previous_secret)
    return found


def signed_headers(endpoint: WebhookEndpoint, message_id: str, payload: bytes, now) -> dict:
    signatures = [
        Webhook(secret).sign(message_id, now, payload) for secret in signing_secrets(endpoint, now)
    ]
    return {
        "Content-Type": "application/json",
        "User-Agent": "Playbook-Webhooks/1",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": " ".join(signatures),
    }


def _send(row: WebhookOutbox) -> tuple[int | None, str, str]:
    """(status code or None, response excerpt, error) of one try."""
    payload = row.payload.encode()
    headers = signed_headers(row.endpoint, row.message_id, payload, timezone.now())
    try:
        status, answer = outbound.post(
            row.endpoint.url,
            payload,
            headers,
            deadline=outbound.Deadline(DEADLINE),
            allow_private=settings.WEBHOOK_ALLOW_PRIVATE,
            limit=EXCERPT_MAX * 4,
        )
    except outbound.TooSlow:
        return None, "", f"No answer within {DEADLINE:g} s."
    except outbound.Refused as exc:
        return None, "", f"Refused: {exc}"
    except (OSError, http.client.HTTPException) as exc:
        return None, "", storable_text(f"Could not connect: {exc}")[:EXCERPT_MAX]
    except Exception as exc:  # anything else is a failed try too, logged, never a stuck row
        logger.exception("Webhook delivery %s failed", row.message_id)
        return None, "", storable_text(f"Failed: {exc}")[:EXCERPT_MAX]
    excerpt = storable_text(answer.decode("utf-8", errors="replace"))[:EXCERPT_MAX]
    if not 200 <= status < 300:
        why = "Redirects are not followed." if 300 <= status < 400 else ""
        return status, excerpt, why
    return status, excerpt, ""


def webhook_deliver(*, outbox_id: int) -> WebhookDelivery | None:
    """One try of an outbox row if it is due (else None): send, log, schedule the next try."""
    row = _claim(outbox_id)
    if row is None:
        return None
    started = time.monotonic()
    status, excerpt, error = _send(row)
    duration = int((time.monotonic() - started) * 1000)
    ok = status is not None and 200 <= status < 300
    return _record(row, status=status, excerpt=excerpt, error=error, ok=ok, duration=duration)


@transaction.atomic
def _record(row: WebhookOutbox, *, status, excerpt, error, ok, duration) -> WebhookDelivery | None:
    # Locked: an endpoint deleted meanwhile took the row with it (nothing to log), and a delete
    # starting now waits for this log entry.
    if not WebhookOutbox.objects.select_for_update().filter(pk=row.pk).exists():
        return None
    now = timezone.now()
    delivery = WebhookDelivery.objects.create(
        endpoint_id=row.endpoint_id,
        outbox=row,
        message_id=row.message_id,
        event=row.event,
        attempt=row.tries,
        succeeded=ok,
        status_code=status,
        duration_ms=duration,
        response_excerpt=excerpt,
        error=error,
        at=now,
    )
    if ok:
        row.next_try_at, row.delivered_at = None, now
    elif row.tries >= MAX_TRIES:
        row.next_try_at = None  # given up; Resend may still send it
    else:
        row.next_try_at = now + RETRY_DELAYS[row.tries - 1]
    row.save(update_fields=["next_try_at", "delivered_at"])
    # failing_since is not in the endpoint's history (it flips with every outage): a plain
    # UPDATE, with no row lock held across deliveries of the endpoint.
    endpoints = WebhookEndpoint.objects.filter(pk=row.endpoint_id)
    if ok:
        endpoints.filter(failing_since__isnull=False).update(failing_since=None)
    else:
        endpoints.filter(failing_since__isnull=True).update(failing_since=now)
        _disable_if_failing(row.endpoint_id, now)
    return delivery


def _disable_if_failing(endpoint_id: int, now) -> None:
    """Every try failed since `failing_since`, 3 days ago or more: disable, tell the owners."""
    endpoint = (
        WebhookEndpoint.objects.select_for_update()
        .select_related("workspace")
        .filter(pk=endpoint_id, enabled=True, failing_since__lte=now - DISABLE_AFTER)
        .first()
    )
    if endpoint is None:
        return
    _set_disabled(endpoint, None, DISABLED_FAILING)
    transaction.on_commit(lambda: _email_owners(endpoint), robust=True)


def _email_owners(endpoint: WebhookEndpoint) -> None:
    owners = list(
        Membership.objects.filter(workspace_id=endpoint.workspace_id, role=Role.OWNER)
        .filter(user__is_active=True)
        .values_list("user__email", flat=True)
    )
    if not owners:
        return
    link = settings.PLAYBOOK_BASE_URL.rstrip("/") + reverse("webhooks:detail", args=[endpoint.pk])
    since = endpoint.failing_since or endpoint.disabled_at
    send_mail(
        f"Webhook disabled in {endpoint.workspace.name}",
        f"Every delivery to the webhook endpoint {endpoint.url} has failed since "
        f"{since:%Y-%m-%d %H:%M} UTC, so it was disabled: no more events are sent to it.\n\n"
        f"The delivery log says what the endpoint answered. Once it works again, enable it "
        f"from its page; events that waited are then delivered:\n{link}\n",
        None,
        owners,
    )
