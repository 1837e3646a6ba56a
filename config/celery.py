"""The Celery app: background work (imports, scheduled upkeep) on workers with Redis as broker.

Tasks live in each app's tasks.py and are found by autodiscovery. Without CELERY_BROKER_URL
(the zero-setup `make run`) settings make every task run eagerly, in-process; callers enqueue
with transaction.on_commit, so the work sees what the request committed in both modes.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("playbook")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
