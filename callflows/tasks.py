"""Background work of call flows (Celery; see config/celery.py)."""

from celery import shared_task

from jobs.services import job_purge_deleted
from knowledge.services import knowledge_page_purge_deleted

from .services import phone_number_purge_deleted


@shared_task
def purge_deleted() -> dict[str, int]:
    """Daily (CELERY_BEAT_SCHEDULE["purge-deleted"]): delete for good what has been in Recently
    deleted longer than DELETED_KEEP_DAYS. Numbers first: purging one drops its published
    versions, which may be all that still held a deleted job or page. Idempotent and safe to
    retry; each service works in short batches and records one `*.purged` event per object."""
    return {
        "numbers": phone_number_purge_deleted(),
        "jobs": job_purge_deleted(),
        "knowledge_pages": knowledge_page_purge_deleted(),
    }
