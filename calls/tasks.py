"""Scheduled upkeep of calls (CELERY_BEAT_SCHEDULE in config/settings/base.py)."""

import logging

from celery import shared_task

from . import search, services

logger = logging.getLogger(__name__)

PRUNE_LIMIT = 30 * 60  # seconds; each batch commits on its own, so a stopped run lost nothing
INDEX_LIMIT = 5 * 60  # seconds; likewise


@shared_task(soft_time_limit=PRUNE_LIMIT, time_limit=PRUNE_LIMIT + 60)
def prune_calls() -> dict[str, int]:
    """Daily: calls past each workspace's retention deleted, old transcripts cleared. Safe to
    run twice or to retry: what is already pruned is not found again."""
    results = services.calls_prune(workspace=None)
    totals = {
        "calls_deleted": sum(r.calls_deleted for r in results),
        "transcripts_cleared": sum(r.transcripts_cleared for r in results),
    }
    logger.info("Pruned calls: %s", totals)
    return totals


@shared_task(soft_time_limit=INDEX_LIMIT, time_limit=INDEX_LIMIT + 30)
def index_call_summaries() -> int:
    """Every CALL_SEARCH_INDEX_SECONDS: the new calls' summaries copied into the search index
    (calls/search.py). Overlapping runs are harmless."""
    return search.index_summaries()
