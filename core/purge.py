"""Purging what sat in "Recently deleted" longer than settings.DELETED_KEEP_DAYS.

Each kind has its purge service beside its delete and restore (phone_number_purge_deleted,
job_purge_deleted, knowledge_page_purge_deleted); the daily task callflows.tasks.purge_deleted
runs them. They share these two rules: what counts as deleted long ago, and batches (each batch
its own short transaction, so a purge of thousands of rows never holds many locks for long).
"""

from collections.abc import Iterator
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

BATCH = 100
PURGED = "purged"  # the history reason of a purged job or page


def cutoff(now: datetime | None = None) -> datetime:
    """Rows deleted before this are purged."""
    return (now or timezone.now()) - timedelta(days=settings.DELETED_KEEP_DAYS)


def id_batches(rows: QuerySet, size: int = BATCH) -> Iterator[list[int]]:
    """The primary keys of `rows`, `size` at a time, by keyset: each query starts after the last
    batch, so rows skipped (still referenced) or restored meanwhile never loop forever."""
    if size < 1:
        raise ValueError("The batch size must be at least 1.")
    last = 0
    while True:
        ids = list(rows.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:size])
        if not ids:
            return
        yield ids
        last = ids[-1]
