"""The alert check on a schedule (CELERY_BEAT_SCHEDULE["outcomes.check-alerts"], every
ALERT_CHECK_SECONDS)."""

import logging

from celery import shared_task

from .alerts import check_alerts as run_check

logger = logging.getLogger(__name__)

CHECK_LIMIT = 5 * 60  # seconds: well inside the default 10-minute interval


@shared_task(soft_time_limit=CHECK_LIMIT, time_limit=CHECK_LIMIT + 60)
def check_alerts() -> dict[str, int]:
    """Evaluate every enabled rule once. Safe to run twice or to overlap: an alert is raised
    once per rule and window (a database constraint), a cleared one resolved once."""
    result = run_check()
    totals = {"raised": len(result.raised), "resolved": len(result.resolved)}
    logger.info("Checked alerts: %s", totals)
    return totals
