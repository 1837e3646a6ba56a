"""prune_calls runs daily on Celery beat (calls/tasks.py), the command's service."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from calls import tasks
from calls.models import Call
from tests.factories import CallFactory, PhoneNumberFactory

pytestmark = pytest.mark.django_db


def test_prune_calls_is_scheduled_daily():
    entry = settings.CELERY_BEAT_SCHEDULE["calls.prune"]
    assert entry["task"] == "calls.tasks.prune_calls" == tasks.prune_calls.name
    assert entry["schedule"].hour == {3} and entry["schedule"].minute == {30}
    assert tasks.prune_calls.soft_time_limit == 30 * 60


def test_prune_calls_task_prunes_and_a_second_run_finds_nothing(workspace):
    phone = PhoneNumberFactory(workspace=workspace)
    old = timezone.now() - timedelta(days=workspace.call_retention_days + 1)
    CallFactory(phone_number=phone, started_at=old)
    kept = CallFactory(phone_number=phone, started_at=timezone.now() - timedelta(days=1))
    assert tasks.prune_calls.delay().get() == {"calls_deleted": 1, "transcripts_cleared": 0}
    assert list(Call.objects.all()) == [kept]
    assert tasks.prune_calls() == {"calls_deleted": 0, "transcripts_cleared": 0}
