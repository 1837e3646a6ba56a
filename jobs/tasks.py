"""Jobs files of more than settings.JOBS_IMPORT_BACKGROUND_OVER jobs, imported on a worker.

Thin: the work, its idempotence and its deadline are in jobs.services.job_import_run and
workspaces/imports.py.
"""

from celery import shared_task
from django.conf import settings

from . import services

LIMIT = settings.IMPORT_TIME_LIMITS["jobs"]


@shared_task(soft_time_limit=LIMIT, time_limit=LIMIT + 30)
def import_jobs(run_id: int) -> None:
    services.job_import_run(run_id=run_id)
