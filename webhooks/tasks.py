"""Webhook deliveries on a worker (thin: the work is webhooks.services.webhook_deliver)."""

from celery import shared_task

from . import services

# Per try: the HTTP exchange has its own 10 s deadline (services.DEADLINE); this is a backstop.
LIMIT = 30


@shared_task(soft_time_limit=LIMIT, time_limit=LIMIT + 30)
def deliver(outbox_id: int) -> None:
    """One try of one outbox row, if it is still due (idempotent: a row already delivered, or
    claimed by another worker, is left alone)."""
    services.webhook_deliver(outbox_id=outbox_id)


@shared_task(soft_time_limit=50, time_limit=80)
def deliver_due() -> int:
    """Every minute (CELERY_BEAT_SCHEDULE["webhooks.deliver-due"]): queue the rows that are due,
    retries and first tries whose queued task was lost."""
    ids = services.webhook_due_ids()
    for pk in ids:
        deliver.delay(pk)
    return len(ids)


@shared_task(soft_time_limit=30 * 60, time_limit=30 * 60 + 60)
def prune() -> int:
    """Daily (CELERY_BEAT_SCHEDULE["webhooks.prune"]): old finished messages and their log."""
    return services.webhook_prune()
