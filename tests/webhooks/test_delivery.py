"""Deliveries to a real local HTTP server: signed as Standard Webhooks says (checked with the
`standardwebhooks` package), retried on the schedule (time frozen), refused for private
addresses by default, cut at the deadline, logged, and an endpoint failing for 3 days is
disabled with an email to the owners."""

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from webhooks import services, tasks
from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookOutbox
from webhooks.outbox import emit
from workspaces.models import AuditEvent

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _deliver_now(workspace, event="alert.raised", data=None):
    """Emit (the test's transaction never commits, so no task was queued) and run the beat."""
    emit(workspace=workspace, event=event, data=data or {"rule": "Missed calls", "value": 7})
    return tasks.deliver_due()


def test_a_delivery_is_signed_and_verified_by_the_standardwebhooks_package(
    workspace, endpoint, receiver
):
    assert _deliver_now(workspace, data={"rule": "Missed calls", "value": 7}) == 1
    [request] = receiver.received
    payload = Webhook(endpoint.secret).verify(request.body, request.headers)
    assert payload["type"] == "alert.raised"
    assert payload["data"] == {"rule": "Missed calls", "value": 7}
    datetime.fromisoformat(payload["timestamp"])  # ISO 8601
    assert request.headers["webhook-signature"].startswith("v1,")
    assert request.headers["webhook-id"].startswith("msg_")
    assert request.headers["Content-Type"] == "application/json"
    [delivery] = WebhookDelivery.objects.all()
    assert (delivery.succeeded, delivery.status_code, delivery.attempt) == (True, 200, 1)
    assert delivery.response_excerpt == '{"ok": true}'
    assert delivery.message_id == request.headers["webhook-id"]
    row = WebhookOutbox.objects.get()
    assert row.next_try_at is None and row.delivered_at is not None
    assert tasks.deliver_due() == 0  # delivered: never sent again


def test_another_secret_does_not_verify(workspace, endpoint, receiver):
    _deliver_now(workspace)
    [request] = receiver.received
    with pytest.raises(WebhookVerificationError):
        Webhook(services.new_secret()).verify(request.body, request.headers)


def test_a_row_is_sent_once_however_often_its_task_runs(workspace, endpoint, receiver):
    emit(workspace=workspace, event="alert.raised", data={})
    row = WebhookOutbox.objects.get()
    assert services.webhook_deliver(outbox_id=row.pk) is not None
    assert services.webhook_deliver(outbox_id=row.pk) is None  # delivered: not due
    assert len(receiver.received) == 1


def test_a_try_cut_short_is_due_again_after_its_lease(workspace, endpoint, receiver, monkeypatch):
    """A worker that dies mid-try leaves its row claimed: due again after the lease, not before."""
    send = services._send

    def worker_dies(row):
        raise SystemExit("killed")

    with time_machine.travel(START, tick=False) as clock:
        emit(workspace=workspace, event="alert.raised", data={})
        row = WebhookOutbox.objects.get()
        monkeypatch.setattr(services, "_send", worker_dies)
        with pytest.raises(SystemExit):
            services.webhook_deliver(outbox_id=row.pk)
        monkeypatch.setattr(services, "_send", send)
        assert services.webhook_deliver(outbox_id=row.pk) is None  # claimed: not due
        assert tasks.deliver_due() == 0 and receiver.received == []
        clock.shift(services.LEASE)
        assert services.webhook_deliver(outbox_id=row.pk).attempt == 2
    assert len(receiver.received) == 1


def test_a_failing_endpoint_is_retried_on_schedule(workspace, endpoint, receiver):
    receiver.status = 500
    receiver.answer = b"Internal error"
    with time_machine.travel(START, tick=False) as clock:
        assert _deliver_now(workspace) == 1
        row = WebhookOutbox.objects.get()
        for delay in services.RETRY_DELAYS:
            row.refresh_from_db()
            assert row.next_try_at == datetime.now(UTC) + delay
            clock.shift(delay - timedelta(seconds=1))
            assert tasks.deliver_due() == 0  # not due yet
            clock.shift(timedelta(seconds=1))
            assert tasks.deliver_due() == 1
        row.refresh_from_db()
        assert (row.tries, row.next_try_at, row.delivered_at) == (7, None, None)  # given up
        clock.shift(timedelta(days=1))
        assert tasks.deliver_due() == 0
    log = list(WebhookDelivery.objects.order_by("at"))
    assert [d.attempt for d in log] == [1, 2, 3, 4, 5, 6, 7]
    assert {(d.succeeded, d.status_code, d.response_excerpt) for d in log} == {
        (False, 500, "Internal error")
    }
    assert len(log) >= 6 and log[-1].at - log[0].at >= timedelta(hours=8)
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1  # one message
    assert WebhookEndpoint.objects.get().enabled  # failing for less than 3 days


def test_a_retry_that_succeeds_ends_the_failure(workspace, endpoint, receiver):
    receiver.status = 503
    with time_machine.travel(START, tick=False) as clock:
        _deliver_now(workspace)
        assert WebhookEndpoint.objects.get().failing_since == START
        receiver.status = 204
        clock.shift(services.RETRY_DELAYS[0])
        assert tasks.deliver_due() == 1
    row = WebhookOutbox.objects.get()
    assert row.delivered_at is not None and row.tries == 2
    assert WebhookEndpoint.objects.get().failing_since is None


def test_an_endpoint_failing_for_3_days_is_disabled_and_owners_are_emailed(
    workspace, owner, admin_user, endpoint, receiver, django_capture_on_commit_callbacks
):
    receiver.status = 500
    with time_machine.travel(START, tick=False) as clock:
        _deliver_now(workspace)
        clock.shift(services.DISABLE_AFTER - timedelta(minutes=1))
        _deliver_now(workspace)
        assert WebhookEndpoint.objects.get().enabled  # 3 days less a minute
        clock.shift(timedelta(minutes=1))
        with django_capture_on_commit_callbacks(execute=True):
            _deliver_now(workspace)
    endpoint = WebhookEndpoint.objects.get()
    assert not endpoint.enabled
    assert endpoint.disabled_reason == "Every delivery failed for 3 days."
    [email] = mail.outbox
    assert email.to == [owner.email]  # owners only, not admins
    assert endpoint.url in email.body and f"/webhooks/{endpoint.pk}/" in email.body
    event = AuditEvent.objects.get(action="webhook.disabled")
    assert (event.actor, event.workspace) == (None, workspace)
    # Disabled: nothing is sent, due rows wait.
    sent = len(receiver.received)
    with time_machine.travel(START + timedelta(days=4), tick=False):
        _deliver_now(workspace)
        assert tasks.deliver_due() == 0
    assert len(receiver.received) == sent


def test_private_addresses_are_refused_by_default(workspace, endpoint, receiver, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    _deliver_now(workspace)
    assert receiver.received == []
    [delivery] = WebhookDelivery.objects.all()
    assert not delivery.succeeded and delivery.status_code is None
    assert delivery.error.startswith("Refused: the address 127.0.0.1 is private, loopback")
    assert WebhookOutbox.objects.get().next_try_at is not None  # retried, like any failure


def test_private_addresses_are_allowed_with_the_setting(workspace, endpoint, receiver, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    _deliver_now(workspace)
    assert len(receiver.received) == 1


def test_a_redirect_is_a_failure_and_not_followed(workspace, endpoint, receiver):
    receiver.status = 302
    receiver.location = "/elsewhere"
    _deliver_now(workspace)
    assert [r.path for r in receiver.received] == ["/hooks"]
    [delivery] = WebhookDelivery.objects.all()
    assert (delivery.succeeded, delivery.status_code) == (False, 302)
    assert delivery.error == "Redirects are not followed."


def test_a_slow_endpoint_is_cut_at_the_deadline(workspace, endpoint, receiver, monkeypatch):
    monkeypatch.setattr(services, "DEADLINE", 1.0)
    receiver.delay = 3
    started = time.monotonic()
    _deliver_now(workspace)
    assert time.monotonic() - started < 2.5
    [delivery] = WebhookDelivery.objects.all()
    assert delivery.error == "No answer within 1 s." and not delivery.succeeded
    assert 900 <= delivery.duration_ms < 2500


def test_an_unreachable_endpoint_is_logged(workspace, receiver):
    from tests.factories import WebhookEndpointFactory

    port = receiver.server_port
    receiver.shutdown()
    receiver.server_close()
    WebhookEndpointFactory(workspace=workspace, url=f"http://127.0.0.1:{port}/gone")
    _deliver_now(workspace)
    [delivery] = WebhookDelivery.objects.all()
    assert delivery.error.startswith("Could not connect:") and not delivery.succeeded


def test_the_response_excerpt_is_cut_and_storable(workspace, endpoint, receiver):
    receiver.answer = b"\x00" + "é".encode() * 2000
    _deliver_now(workspace)
    excerpt = WebhookDelivery.objects.get().response_excerpt
    assert len(excerpt) == 500 and "\x00" not in excerpt and excerpt.startswith("é")


def test_an_unexpected_error_is_a_failed_try(workspace, endpoint, receiver, monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("something odd")

    monkeypatch.setattr(services.outbound, "post", broken)
    _deliver_now(workspace)
    [delivery] = WebhookDelivery.objects.all()
    assert delivery.error == "Failed: something odd"
    assert WebhookOutbox.objects.get().next_try_at is not None  # retried on schedule


def test_a_row_whose_last_try_was_never_recorded_is_given_up(workspace, endpoint, receiver):
    with time_machine.travel(START, tick=False) as clock:
        emit(workspace=workspace, event="alert.raised", data={})
        WebhookOutbox.objects.update(tries=services.MAX_TRIES)
        assert services.webhook_deliver(outbox_id=WebhookOutbox.objects.get().pk) is None
        clock.shift(timedelta(days=1))
        assert tasks.deliver_due() == 0
    assert receiver.received == [] and WebhookOutbox.objects.get().next_try_at is None


def test_an_endpoint_deleted_during_a_try_logs_nothing(
    workspace, owner, endpoint, receiver, monkeypatch
):
    send = services._send

    def deleted_meanwhile(row):
        answer = send(row)
        services.webhook_delete(endpoint=endpoint, user=owner)
        return answer

    monkeypatch.setattr(services, "_send", deleted_meanwhile)
    emit(workspace=workspace, event="alert.raised", data={})
    assert services.webhook_deliver(outbox_id=WebhookOutbox.objects.get().pk) is None
    assert len(receiver.received) == 1
    assert not WebhookOutbox.objects.exists() and not WebhookDelivery.objects.exists()


# Secret rotation ---------------------------------------------------------------------------


def test_both_secrets_sign_for_24_hours_after_a_rotation(workspace, owner, endpoint, receiver):
    old = endpoint.secret
    with time_machine.travel(START, tick=False) as clock:
        new = services.webhook_rotate_secret(endpoint=endpoint, user=owner).secret
        assert new != old and new.startswith("whsec_")
        _deliver_now(workspace)
        request = receiver.received[-1]
        assert len(request.headers["webhook-signature"].split(" ")) == 2
        for secret in (old, new):
            Webhook(secret).verify(request.body, request.headers)
        clock.shift(timedelta(hours=24))
        _deliver_now(workspace)
        request = receiver.received[-1]
        assert len(request.headers["webhook-signature"].split(" ")) == 1
        Webhook(new).verify(request.body, request.headers)
        with pytest.raises(WebhookVerificationError):
            Webhook(old).verify(request.body, request.headers)


# Resend ------------------------------------------------------------------------------------


def test_resend_sends_the_same_message_again(
    workspace, owner, endpoint, receiver, django_capture_on_commit_callbacks
):
    _deliver_now(workspace)
    delivery = WebhookDelivery.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        row = services.webhook_resend(delivery=delivery, user=owner)
    first, again = receiver.received
    assert again.headers["webhook-id"] == first.headers["webhook-id"]
    assert again.body == first.body
    Webhook(endpoint.secret).verify(again.body, again.headers)
    row.refresh_from_db()
    assert row.delivered_at is not None and row.tries == 1
    assert WebhookDelivery.objects.count() == 2
    event = AuditEvent.objects.get(action="webhook.resent")
    assert event.details["message_id"] == first.headers["webhook-id"]


def test_a_disabled_endpoint_is_not_resent(workspace, owner, endpoint, receiver):
    _deliver_now(workspace)
    services.webhook_disable(endpoint=endpoint, user=owner)
    with pytest.raises(Exception, match="disabled: enable it first"):
        services.webhook_resend(delivery=WebhookDelivery.objects.get(), user=owner)
    assert WebhookOutbox.objects.count() == 1


def test_enabling_delivers_what_waited(workspace, owner, endpoint, receiver):
    emit(workspace=workspace, event="alert.raised", data={})  # due, not yet sent
    services.webhook_disable(endpoint=endpoint, user=owner)
    emit(workspace=workspace, event="alert.raised", data={})  # disabled: no row for it
    assert tasks.deliver_due() == 0 and WebhookOutbox.objects.count() == 1
    services.webhook_enable(endpoint=endpoint, user=owner)
    assert tasks.deliver_due() == 1
    assert json.loads(receiver.received[0].body)["type"] == "alert.raised"


# Keeping the log ---------------------------------------------------------------------------


def test_finished_messages_are_pruned_after_the_log_days(workspace, endpoint, receiver, settings):
    settings.WEBHOOK_LOG_DAYS = 30
    with time_machine.travel(START, tick=False) as clock:
        _deliver_now(workspace)  # delivered
        receiver.status = 500
        _deliver_now(workspace)  # failing: still due
        clock.shift(timedelta(days=30, seconds=1))
        assert tasks.prune() == 1
    assert WebhookOutbox.objects.count() == 1  # the pending one stays
    assert WebhookDelivery.objects.count() == 1
    assert WebhookOutbox.objects.get().next_try_at is not None


def test_the_beat_schedule_names_the_tasks(settings):
    due = settings.CELERY_BEAT_SCHEDULE["webhooks.deliver-due"]
    assert due["task"] == tasks.deliver_due.name and due["schedule"] == 60.0
    prune = settings.CELERY_BEAT_SCHEDULE["webhooks.prune"]
    assert prune["task"] == tasks.prune.name and prune["schedule"].hour == {4}
    assert tasks.deliver.soft_time_limit > services.DEADLINE


# Addresses ---------------------------------------------------------------------------------


def test_private_addresses_are_refused_unless_the_setting_says_otherwise():
    from django.conf import settings as live_settings

    assert live_settings.WEBHOOK_ALLOW_PRIVATE is False  # the default


@pytest.fixture
def resolver(monkeypatch):
    """hooks.example.test resolves to 127.0.0.1; every lookup is counted."""
    import socket

    real, lookups = socket.getaddrinfo, []

    def fake(host, port, *args, **kwargs):
        lookups.append(host)
        return real("127.0.0.1" if host == "hooks.example.test" else host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return lookups


def test_a_host_name_resolving_to_a_private_address_is_refused(
    workspace, receiver, resolver, settings
):
    from tests.factories import WebhookEndpointFactory

    settings.WEBHOOK_ALLOW_PRIVATE = False
    WebhookEndpointFactory(
        workspace=workspace, url=f"https://hooks.example.test:{receiver.server_port}/hooks"
    )
    _deliver_now(workspace)
    assert receiver.received == []
    assert WebhookDelivery.objects.get().error.startswith("Refused: the address 127.0.0.1")


def test_the_host_is_resolved_once_and_the_checked_address_is_used(workspace, receiver, resolver):
    from tests.factories import WebhookEndpointFactory

    WebhookEndpointFactory(
        workspace=workspace, url=f"http://hooks.example.test:{receiver.server_port}/hooks"
    )
    _deliver_now(workspace)
    # One lookup of the name; the connection goes to the address it checked (create_connection's
    # numeric lookup), so a second DNS answer cannot swap it.
    assert resolver == ["hooks.example.test", "127.0.0.1"]
    [request] = receiver.received
    assert request.headers["Host"] == f"hooks.example.test:{receiver.server_port}"


@pytest.mark.parametrize(
    "host", ["[::ffff:127.0.0.1]", "[64:ff9b::7f00:1]", "[2002:7f00:1::]", "169.254.169.254"]
)
def test_hidden_private_addresses_are_refused_at_delivery(workspace, receiver, settings, host):
    from tests.factories import WebhookEndpointFactory

    settings.WEBHOOK_ALLOW_PRIVATE = False
    WebhookEndpointFactory(workspace=workspace, url=f"https://{host}/hooks")
    _deliver_now(workspace)
    assert "is private, loopback or link-local" in WebhookDelivery.objects.get().error
