"""Knowledge imports on a worker: website imports and large uploads.

Thin: the work, its idempotence and its deadline are in knowledge.services.knowledge_import_run
and workspaces/imports.py. Each task's soft time limit is the run's total deadline.
"""

from celery import shared_task
from django.conf import settings

from . import services

WEBSITE = settings.IMPORT_TIME_LIMITS["website"]
FILES = settings.IMPORT_TIME_LIMITS["files"]


@shared_task(soft_time_limit=WEBSITE, time_limit=WEBSITE + 30)
def import_website(run_id: int) -> None:
    services.knowledge_import_run(run_id=run_id)


@shared_task(soft_time_limit=FILES, time_limit=FILES + 30)
def import_files(run_id: int) -> None:
    services.knowledge_import_run(run_id=run_id)
