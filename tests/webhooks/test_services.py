"""The owners' writes: add (URL and event rules), edit, rotate, disable/enable, delete; each
with its audit event and history, and each refusal changing nothing."""

import pytest
from django.core.exceptions import ValidationError

from webhooks import services
from webhooks.models import WebhookEndpoint
from workspaces.models import AuditEvent
from workspaces.permissions import RoleRequired

pytestmark = pytest.mark.django_db

EVENTS = ["call.reported"]


def _add(workspace, user, url="https://hooks.example.com/in", events=EVENTS, **kw):
    return services.webhook_add(workspace=workspace, user=user, url=url, events=events, **kw)


def test_add_returns_the_secret_once_and_keeps_it_out_of_history(workspace, owner):
    new = _add(workspace, owner, description="CRM")
    endpoint = WebhookEndpoint.objects.get()
    assert new.secret.startswith("whsec_") and endpoint.secret == new.secret
    assert (endpoint.url, endpoint.events, endpoint.description) == (
        "https://hooks.example.com/in",
        EVENTS,
        "CRM",
    )
    assert endpoint.created_by == owner and endpoint.enabled
    record = endpoint.history.get()
    assert record.history_user == owner and record.history_change_reason == "Added"
    assert not hasattr(record, "secret") and not hasattr(record, "previous_secret")
    event = AuditEvent.objects.get(action="webhook.added")
    assert (event.actor, event.object_label) == (owner, endpoint.url)
    assert new.secret not in str(event.details)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "Enter the endpoint's URL"),
        ("ftp://example.com/x", "only http:// and https:// addresses can be used."),
        ("hooks.example.com", "only http:// and https:// addresses can be used."),
        ("https://example.com:99999/", "the port is not valid."),
        ("http://hooks.example.com/in", "Use an https:// URL"),
        ("https://127.0.0.1/in", "The address 127.0.0.1 is private, loopback or link-local"),
        ("https://10.1.2.3/in", "The address 10.1.2.3 is private"),
        ("https://169.254.169.254/latest", "The address 169.254.169.254 is private"),
        ("https://localhost:8000/in", "The address localhost is private"),
        ("https://[::ffff:127.0.0.1]/in", "The address ::ffff:127.0.0.1 is private"),
        ("https://[fd00::1]/in", "The address fd00::1 is private"),
        ("https://x.test/" + "a" * 2000, "at most 2,000 characters"),
        ("https://hooks.example.com/a b", "cannot contain spaces or control characters"),
        ("https://hooks.example.com/\x7f", "cannot contain spaces or control characters"),
    ],
)
def test_bad_urls_are_refused_and_nothing_changes(workspace, owner, url, message):
    with pytest.raises(ValidationError) as exc:
        _add(workspace, owner, url=url)
    assert message in exc.value.message_dict["url"][0]
    assert not WebhookEndpoint.objects.exists()
    assert not AuditEvent.objects.filter(action="webhook.added").exists()


def test_private_and_http_urls_are_accepted_with_the_setting(workspace, owner, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    _add(workspace, owner, url="http://127.0.0.1:8123/hooks")
    assert WebhookEndpoint.objects.get().url == "http://127.0.0.1:8123/hooks"


@pytest.mark.parametrize(
    ("events", "message"),
    [
        ([], "Choose at least one event."),
        (["call.reported", "call.deleted"], "Unknown event 'call.deleted'"),
    ],
)
def test_bad_events_are_refused(workspace, owner, events, message):
    with pytest.raises(ValidationError, match=message):
        _add(workspace, owner, events=events)
    assert not WebhookEndpoint.objects.exists()


def test_events_are_kept_once_in_their_order(workspace, owner):
    _add(workspace, owner, events=["alert.raised", "call.reported", "alert.raised"])
    assert WebhookEndpoint.objects.get().events == ["call.reported", "alert.raised"]


def test_a_long_description_is_refused(workspace, owner):
    with pytest.raises(ValidationError, match="at most 500 characters"):
        _add(workspace, owner, description="x" * 501)
    assert not WebhookEndpoint.objects.exists()


def test_update_records_before_and_after(workspace, owner):
    endpoint = _add(workspace, owner).endpoint
    services.webhook_update(
        endpoint=endpoint, user=owner, events=["alert.raised"], description="Pager"
    )
    endpoint.refresh_from_db()
    assert (endpoint.events, endpoint.description) == (["alert.raised"], "Pager")
    event = AuditEvent.objects.get(action="webhook.updated")
    assert event.details == {
        "before": {"events": EVENTS, "description": ""},
        "after": {"events": ["alert.raised"], "description": "Pager"},
    }
    # The same again: nothing to record.
    services.webhook_update(
        endpoint=endpoint, user=owner, events=["alert.raised"], description="Pager"
    )
    assert AuditEvent.objects.filter(action="webhook.updated").count() == 1


def test_rotation_keeps_the_previous_secret_for_24_hours(workspace, owner):
    endpoint = _add(workspace, owner).endpoint
    old = endpoint.secret
    new = services.webhook_rotate_secret(endpoint=endpoint, user=owner)
    endpoint.refresh_from_db()
    assert (endpoint.secret, endpoint.previous_secret) == (new.secret, old)
    left = endpoint.previous_secret_expires_at - endpoint.updated_at
    assert abs(left.total_seconds() - 24 * 3600) < 5
    assert AuditEvent.objects.filter(action="webhook.rotated").count() == 1


def test_disable_enable_delete(workspace, owner):
    endpoint = _add(workspace, owner).endpoint
    services.webhook_disable(endpoint=endpoint, user=owner)
    endpoint.refresh_from_db()
    assert not endpoint.enabled and endpoint.disabled_reason == "Disabled by an owner."
    services.webhook_disable(endpoint=endpoint, user=owner)  # again: nothing more
    services.webhook_enable(endpoint=endpoint, user=owner)
    endpoint.refresh_from_db()
    assert endpoint.enabled and endpoint.disabled_at is None
    services.webhook_delete(endpoint=endpoint, user=owner)
    assert not WebhookEndpoint.objects.exists()
    assert list(
        AuditEvent.objects.filter(action__startswith="webhook.")
        .order_by("pk")
        .values_list("action", flat=True)
    ) == ["webhook.added", "webhook.disabled", "webhook.enabled", "webhook.deleted"]
    assert WebhookEndpoint.history.filter(history_type="-").get().history_user == owner


@pytest.mark.parametrize("role", ["admin_user", "member"])
def test_only_owners_manage_webhooks(request, workspace, owner, role):
    endpoint = _add(workspace, owner).endpoint
    user = request.getfixturevalue(role)
    with pytest.raises(RoleRequired, match="Only owners of .* can manage webhooks."):
        _add(workspace, user)
    with pytest.raises(RoleRequired):
        services.webhook_rotate_secret(endpoint=endpoint, user=user)
    assert WebhookEndpoint.objects.count() == 1
    assert WebhookEndpoint.objects.get().secret == endpoint.secret
