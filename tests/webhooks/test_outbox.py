"""The emit contract: outbox rows in the event's transaction (rolled back with it), one query
when nothing listens, and the two events wired here (call.reported, callflow.published)."""

import json

import pytest
from django.db import transaction
from standardwebhooks import Webhook

from callflows import services as cf
from callflows.models import CallFlowVersion
from calls.models import Call
from tests.calls import test_calls_api as calls_api
from tests.factories import WebhookEndpointFactory
from webhooks.models import EVENTS, WebhookOutbox
from webhooks.outbox import emit

pytestmark = pytest.mark.django_db
# A published line with a runtime token (a fixture), and the API helpers of tests/calls.
line, body, report = calls_api.line, calls_api.body, calls_api.report


def test_the_events(workspace):
    assert EVENTS == ("call.reported", "callflow.published", "alert.raised")
    with pytest.raises(ValueError, match="Unknown webhook event 'call.deleted'"):
        emit(workspace=workspace, event="call.deleted", data={})


def test_emit_writes_a_row_per_subscribed_enabled_endpoint(workspace, other_workspace):
    calls = WebhookEndpointFactory(workspace=workspace, events=["call.reported"])
    every = WebhookEndpointFactory(workspace=workspace)
    WebhookEndpointFactory(workspace=workspace, events=["alert.raised"])  # not subscribed
    WebhookEndpointFactory(  # disabled
        workspace=workspace, enabled=False, disabled_at="2026-01-01T00:00:00Z"
    )
    WebhookEndpointFactory(workspace=other_workspace)  # another workspace
    emit(workspace=workspace, event="call.reported", data={"id": 7})
    rows = list(WebhookOutbox.objects.order_by("endpoint_id"))
    assert [r.endpoint_id for r in rows] == [calls.pk, every.pk]
    assert len({r.message_id for r in rows}) == 1  # one message, sent to each endpoint
    message = json.loads(rows[0].payload)
    assert set(message) == {"type", "timestamp", "data"}
    assert (message["type"], message["data"]) == ("call.reported", {"id": 7})
    assert message["timestamp"].endswith("Z")
    assert all(r.next_try_at is not None and r.tries == 0 for r in rows)


def test_emit_costs_one_query_when_nothing_listens(
    workspace, other_workspace, django_assert_num_queries
):
    WebhookEndpointFactory(workspace=other_workspace)
    with django_assert_num_queries(1):
        emit(workspace=workspace, event="call.reported", data={"id": 1})
    WebhookEndpointFactory(workspace=workspace, events=["alert.raised"])
    with django_assert_num_queries(1):
        emit(workspace=workspace, event="call.reported", data={"id": 1})
    assert not WebhookOutbox.objects.exists()


def test_emit_with_listeners_costs_two_queries(workspace, django_assert_num_queries):
    WebhookEndpointFactory.create_batch(3, workspace=workspace)
    with django_assert_num_queries(2):  # the endpoints, one INSERT of all rows
        emit(workspace=workspace, event="alert.raised", data={})
    assert WebhookOutbox.objects.count() == 3


def test_the_outbox_row_rolls_back_with_its_event(workspace, owner, phone):
    WebhookEndpointFactory(workspace=workspace)
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        cf.callflow_publish(call_flow=phone.call_flow, user=owner)
        assert WebhookOutbox.objects.count() == 1  # written in the publish's transaction
        1 / 0  # noqa: B018
    assert not CallFlowVersion.objects.exists()
    assert not WebhookOutbox.objects.exists()


def test_delivery_is_queued_after_the_commit_only(
    workspace, receiver, endpoint, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        emit(workspace=workspace, event="alert.raised", data={"n": 1})
    assert receiver.received == []  # nothing sent inside the transaction
    for callback in callbacks:
        callback()
    [request] = receiver.received
    assert Webhook(endpoint.secret).verify(request.body, request.headers)["data"] == {"n": 1}


# call.reported -----------------------------------------------------------------------------


def test_a_reported_call_is_delivered(
    client,
    line,
    workspace,
    receiver,
    endpoint,
    django_capture_on_commit_callbacks,
):
    data = body(line)
    with django_capture_on_commit_callbacks(execute=True):
        assert report(client, line.token.raw, data).status_code == 201
    call = Call.objects.get()
    [request] = receiver.received
    message = Webhook(endpoint.secret).verify(request.body, request.headers)
    assert message["type"] == "call.reported"
    assert message["data"] == {
        "id": call.pk,
        "number": line.phone.number,
        "step": line.sona.key,
        "job_id": line.job.pk,
        "job_name": line.job.name,
        "job_history_id": call.job_history_id,
        "outcome": "sms_sent",
        "started_at": message["data"]["started_at"],
        "ended_at": message["data"]["ended_at"],
        "summary": data["summary"],
    }
    assert message["data"]["started_at"].startswith(call.started_at.strftime("%Y-%m-%dT%H:%M:%S"))
    # A retry of the same report is not a new call: no new message.
    with django_capture_on_commit_callbacks(execute=True):
        assert report(client, line.token.raw, data).status_code == 200
    assert len(receiver.received) == 1 and WebhookOutbox.objects.count() == 1


def test_an_endpoint_added_while_the_token_is_leased_gets_the_next_call(
    client, line, workspace, receiver
):
    """The token lookup (leased for a second) says whether the workspace has an endpoint: a
    report without one writes no outbox row. Adding one forgets the lease in this process (and
    the others within FRESH_SECONDS), so the very next report writes its message."""
    assert report(client, line.token.raw, body(line, external_id="before")).status_code == 201
    assert not WebhookOutbox.objects.exists()
    WebhookEndpointFactory(workspace=workspace, url=receiver.url)
    assert report(client, line.token.raw, body(line, external_id="after")).status_code == 201
    [row] = WebhookOutbox.objects.all()
    assert json.loads(row.payload)["data"]["id"] == Call.objects.get(external_id="after").pk


def test_a_refused_report_emits_nothing(client, line, workspace, endpoint):
    assert report(client, line.token.raw, body(line, outcome="nope")).status_code == 400
    assert not WebhookOutbox.objects.exists()


# callflow.published ------------------------------------------------------------------------


def test_publish_and_rollback_are_delivered(
    workspace, owner, phone, receiver, endpoint, settings, django_capture_on_commit_callbacks
):
    settings.PLAYBOOK_BASE_URL = "https://playbook.example/"
    with django_capture_on_commit_callbacks(execute=True):
        v1 = cf.callflow_publish(call_flow=phone.call_flow, user=owner, note="First")
    cf.step_add(call_flow=phone.call_flow, kind="voicemail", name="Later", user=owner)
    with django_capture_on_commit_callbacks(execute=True):
        cf.callflow_publish(call_flow=phone.call_flow, user=owner)
    with django_capture_on_commit_callbacks(execute=True):
        v3 = cf.callflow_rollback(call_flow=phone.call_flow, version=v1, user=owner)
    messages = [Webhook(endpoint.secret).verify(r.body, r.headers) for r in receiver.received]
    assert [m["type"] for m in messages] == ["callflow.published"] * 3
    first, _, rollback = (m["data"] for m in messages)
    assert first == {
        "number": "+15555550123",
        "display_name": "Main line",
        "version": 1,
        "rolled_back_from": None,
        "note": "First",
        "published_by": owner.email,
        "published_at": first["published_at"],
        "url": f"https://playbook.example/numbers/{phone.pk}/versions/{v1.pk}/",
    }
    assert (rollback["version"], rollback["rolled_back_from"]) == (3, 1)
    assert rollback["url"].endswith(f"/versions/{v3.pk}/")
