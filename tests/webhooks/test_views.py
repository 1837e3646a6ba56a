"""The webhook pages: owners only, the secret shown once, bad input changes nothing, another
workspace's endpoint is a 404, and every button goes through its service."""

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from tests.factories import WebhookEndpointFactory
from webhooks import services
from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookOutbox
from webhooks.outbox import emit

pytestmark = pytest.mark.django_db

LIST = reverse("webhooks:list")
ADD = {"url": "https://hooks.example.com/in", "events": ["call.reported"], "description": "CRM"}


def test_an_owner_adds_an_endpoint_and_sees_the_secret_once(owner_client):
    response = owner_client.post(LIST, ADD)
    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.get()
    body = response.content.decode()
    assert endpoint.secret in body and "it is not shown again" in body
    assert endpoint.url in body
    for page in (LIST, reverse("webhooks:detail", args=[endpoint.pk])):
        assert endpoint.secret not in owner_client.get(page).content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({**ADD, "url": "http://hooks.example.com/in"}, "Use an https:// URL"),
        ({**ADD, "url": "https://192.168.1.10/in"}, "The address 192.168.1.10 is private"),
        ({**ADD, "url": "javascript:alert(1)"}, "only http:// and https:// addresses"),
        ({**ADD, "events": []}, "This field is required."),
        ({**ADD, "events": ["call.deleted"]}, "Select a valid choice."),
        ({**ADD, "description": "x" * 501}, "at most 500 characters"),
    ],
)
def test_bad_input_is_shown_next_to_the_field_and_changes_nothing(owner_client, data, message):
    response = owner_client.post(LIST, data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_the_list_is_paginated(owner_client, workspace):
    WebhookEndpointFactory.create_batch(51, workspace=workspace)
    body = owner_client.get(LIST).content.decode()
    assert "Page 1 of 2" in body
    assert "Page 2 of 2" in owner_client.get(LIST, {"page": 2}).content.decode()


@pytest.mark.parametrize("role", ["admin_user", "member"])
def test_admins_and_members_are_refused(client, workspace, request, role):
    endpoint = WebhookEndpointFactory(workspace=workspace)
    client.force_login(request.getfixturevalue(role))
    assert client.get(LIST).status_code == 403
    assert client.get(reverse("webhooks:detail", args=[endpoint.pk])).status_code == 403
    assert client.post(LIST, ADD).status_code == 403
    assert client.post(reverse("webhooks:disable", args=[endpoint.pk])).status_code == 403
    assert WebhookEndpoint.objects.get().enabled and WebhookEndpoint.objects.count() == 1
    assert "Webhooks" not in client.get(reverse("jobs:list")).content.decode()


def test_the_menu_links_webhooks_for_owners(owner_client):
    body = owner_client.get(reverse("jobs:list")).content.decode()
    assert f'href="{LIST}"' in body


def test_another_workspaces_endpoint_is_404(owner_client, other_workspace):
    theirs = WebhookEndpointFactory(workspace=other_workspace)
    for name in ("detail", "rotate", "delete"):
        assert owner_client.get(reverse(f"webhooks:{name}", args=[theirs.pk])).status_code == 404
    for name in ("detail", "rotate", "disable", "enable", "delete"):
        url = reverse(f"webhooks:{name}", args=[theirs.pk])
        assert owner_client.post(url, {"confirm": "yes"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.enabled and WebhookEndpoint.objects.filter(pk=theirs.pk).exists()


def test_edit_events_and_description(owner_client, workspace):
    endpoint = WebhookEndpointFactory(workspace=workspace)
    url = reverse("webhooks:detail", args=[endpoint.pk])
    response = owner_client.post(url, {"events": ["alert.raised"], "description": "Pager"})
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.events, endpoint.description) == (["alert.raised"], "Pager")
    response = owner_client.post(url, {"events": [], "description": "Other"})
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    endpoint.refresh_from_db()
    assert endpoint.description == "Pager"


def test_rotate_asks_first_then_shows_the_new_secret_once(owner_client, workspace):
    endpoint = WebhookEndpointFactory(workspace=workspace)
    old = endpoint.secret
    url = reverse("webhooks:rotate", args=[endpoint.pk])
    assert "For the next 24 hours" in owner_client.get(url).content.decode()
    assert owner_client.post(url).status_code == 200  # no confirmation: nothing changes
    endpoint.refresh_from_db()
    assert endpoint.secret == old
    body = owner_client.post(url, {"confirm": "yes"}).content.decode()
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.secret in body and old not in body
    assert "The previous secret also signs until" in body


def test_disable_enable_and_delete(owner_client, workspace):
    endpoint = WebhookEndpointFactory(workspace=workspace)
    owner_client.post(reverse("webhooks:disable", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert not endpoint.enabled
    page = owner_client.get(reverse("webhooks:detail", args=[endpoint.pk])).content.decode()
    assert "Disabled by an owner." in page and ">Enable</button>" in page
    owner_client.post(reverse("webhooks:enable", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert endpoint.enabled
    delete = reverse("webhooks:delete", args=[endpoint.pk])
    assert "Delete the webhook" in owner_client.get(delete).content.decode()
    assert owner_client.post(delete, {"confirm": "yes"}).status_code == 302
    assert not WebhookEndpoint.objects.exists()


def test_the_delivery_log_and_resend(owner_client, workspace, receiver):
    endpoint = WebhookEndpointFactory(workspace=workspace, url=receiver.url)
    receiver.status = 500
    receiver.answer = b"Broken <b>here</b>"
    emit(workspace=workspace, event="alert.raised", data={})
    services.webhook_deliver(outbox_id=WebhookOutbox.objects.get().pk)
    page = owner_client.get(reverse("webhooks:detail", args=[endpoint.pk])).content.decode()
    delivery = WebhookDelivery.objects.get()
    assert delivery.message_id in page and "500 failed" in page
    assert "Broken &lt;b&gt;here&lt;/b&gt;" in page  # escaped
    receiver.status = 200
    resend = reverse("webhooks:resend", args=[endpoint.pk, delivery.pk])
    assert owner_client.get(resend).status_code == 405
    response = owner_client.post(resend)
    assert response.status_code == 302
    # The test client's transaction never commits: the new row is due, the beat sends it.
    row = WebhookOutbox.objects.latest("pk")
    assert row.message_id == delivery.message_id and row.tries == 0
    services.webhook_deliver(outbox_id=row.pk)
    assert len(receiver.received) == 2
    assert receiver.received[0].headers["webhook-id"] == receiver.received[1].headers["webhook-id"]


def test_a_delivery_of_another_endpoint_is_404(owner_client, workspace, receiver):
    mine = WebhookEndpointFactory(workspace=workspace)
    other = WebhookEndpointFactory(workspace=workspace, url=receiver.url)
    emit(workspace=workspace, event="alert.raised", data={})
    services.webhook_deliver(outbox_id=WebhookOutbox.objects.get(endpoint=other).pk)
    delivery = WebhookDelivery.objects.get()
    url = reverse("webhooks:resend", args=[mine.pk, delivery.pk])
    assert owner_client.post(url).status_code == 404


def test_the_delivery_log_is_paginated_newest_first(owner_client, workspace, receiver):
    endpoint = WebhookEndpointFactory(workspace=workspace, url=receiver.url)
    for _ in range(3):
        emit(workspace=workspace, event="alert.raised", data={})
    for row in WebhookOutbox.objects.order_by("pk"):
        services.webhook_deliver(outbox_id=row.pk)
    page = owner_client.get(reverse("webhooks:detail", args=[endpoint.pk])).context["page"]
    assert [d.outbox_id for d in page] == sorted(
        WebhookOutbox.objects.values_list("pk", flat=True), reverse=True
    )


# The command -------------------------------------------------------------------------------


def test_add_webhook_prints_the_secret_once(workspace, owner, capsys):
    call_command(
        "add_webhook",
        *("--workspace", workspace.slug, "--user", owner.email),
        *("--url", "https://hooks.example.com/in", "--events", "call.reported, alert.raised"),
        *("--description", "CRM"),
    )
    out, err = capsys.readouterr()
    endpoint = WebhookEndpoint.objects.get()
    assert out.strip() == endpoint.secret
    assert "not shown again" in err and endpoint.secret not in err
    assert (endpoint.events, endpoint.description) == (["call.reported", "alert.raised"], "CRM")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--events", "call.nope"], "Unknown event 'call.nope'"),
        (["--url", "http://10.0.0.1/"], "Use an https:// URL"),
        (["--workspace", "nope"], "No workspace with the slug 'nope'."),
    ],
)
def test_add_webhook_refusals_exit_1_and_change_nothing(workspace, owner, argv, message):
    options = {
        "--workspace": workspace.slug,
        "--user": owner.email,
        "--url": "https://hooks.example.com/in",
        "--events": "call.reported",
    }
    options.update(dict(zip(argv[::2], argv[1::2], strict=True)))
    with pytest.raises(CommandError, match=message) as exc:
        call_command("add_webhook", *[x for pair in options.items() for x in pair])
    assert exc.value.returncode == 1
    assert not WebhookEndpoint.objects.exists()


def test_add_webhook_obeys_the_role(workspace, admin_user):
    with pytest.raises(CommandError, match="Only owners of .* can manage webhooks."):
        call_command(
            "add_webhook",
            *("--workspace", workspace.slug, "--user", admin_user.email),
            *("--url", "https://hooks.example.com/in", "--events", "call.reported"),
        )
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("size", [1, 30])
def test_the_pages_cost_the_same_queries_at_any_size(
    owner_client, workspace, owner, size, django_assert_max_num_queries
):
    endpoints = WebhookEndpointFactory.create_batch(size, workspace=workspace, created_by=owner)
    first = endpoints[0]
    message = first.outbox.create(event="alert.raised", message_id="msg_1", payload="{}")
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            endpoint=first,
            outbox=message,
            message_id="msg_1",
            event="alert.raised",
            attempt=n,
            at=first.created_at,
        )
        for n in range(1, size + 1)
    )
    # session, user, membership, the menu's memberships, count, the page of rows
    with django_assert_max_num_queries(6):
        assert owner_client.get(LIST).status_code == 200
    with django_assert_max_num_queries(7):  # and the endpoint
        assert owner_client.get(reverse("webhooks:detail", args=[first.pk])).status_code == 200


def test_activity_links_a_webhook_event_to_its_page(owner_client, workspace, owner):
    endpoint = services.webhook_add(
        workspace=workspace, user=owner, url="https://hooks.example.com/in", events=["alert.raised"]
    ).endpoint
    body = owner_client.get(reverse("workspaces:activity")).content.decode()
    assert "added a webhook" in body
    assert f'href="{reverse("webhooks:detail", args=[endpoint.pk])}"' in body
    body = owner_client.get(reverse("workspaces:activity"), {"object": "webhookendpoint"})
    assert "added a webhook" in body.content.decode()
