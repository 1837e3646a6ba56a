"""The Celery app: background work (imports, scheduled upkeep) on workers with Redis as broker.

Tasks live in each app's tasks.py and are found by autodiscovery. Without CELERY_BROKER_URL
(the zero-setup `make run`) settings make every task run eagerly, in-process; callers enqueue
with transaction.on_commit, so the work sees what the request committed in both modes.
"""

import os
import time

from celery import Celery
from celery.signals import before_task_publish

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("playbook")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@before_task_publish.connect
def stamp_published_at(headers=None, **kwargs):
    """Celery messages carry no publish time: stamp one, so /healthz (config/health.py) can
    tell how long the oldest queued task has waited."""
    if headers is not None:
        headers.setdefault("published_at", time.time())
