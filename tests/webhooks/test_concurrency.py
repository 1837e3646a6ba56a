"""Real concurrent workers on PostgreSQL: a row is sent once however many tasks race for it."""

import threading

import pytest
from django.db import connection, transaction

from tests.conftest import postgres_only
from webhooks import outbox, services
from webhooks.models import WebhookDelivery, WebhookOutbox

pytestmark = [postgres_only(), pytest.mark.django_db(transaction=True)]


@pytest.fixture
def due(workspace, endpoint, monkeypatch):
    """A due row whose task was not run (autocommit would run it at once, eagerly)."""
    monkeypatch.setattr(outbox, "queue", lambda ids: None)
    outbox.emit(workspace=workspace, event="alert.raised", data={})
    return WebhookOutbox.objects.get()


def test_a_row_locked_by_another_worker_is_skipped(due, receiver):
    row = due
    locked, release = threading.Event(), threading.Event()

    def other_worker():
        try:
            with transaction.atomic():
                WebhookOutbox.objects.select_for_update().get(pk=row.pk)
                locked.set()
                release.wait(5)
        finally:
            connection.close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    assert locked.wait(5)
    assert services.webhook_deliver(outbox_id=row.pk) is None  # SKIP LOCKED: no wait, no send
    release.set()
    thread.join()
    assert receiver.received == []
    assert services.webhook_deliver(outbox_id=row.pk) is not None


def test_racing_tasks_send_a_row_once(due, receiver):
    row = due
    barrier = threading.Barrier(4)

    def task():
        try:
            barrier.wait()
            services.webhook_deliver(outbox_id=row.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=task) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(receiver.received) == 1
    assert WebhookDelivery.objects.count() == 1
