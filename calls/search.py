"""The Calls page's search in summaries, kept off the report's INSERT (issue 22).

A call report inserts into `calls_call` only. `index_summaries` (the Celery beat task
`calls.tasks.index_call_summaries` every CALL_SEARCH_INDEX_SECONDS, or `manage.py
index_call_summaries`) copies the summaries of the calls after the highest one indexed into
CallSearch, which carries the trigram index, in id order and in batches. The search reads
CallSearch only: one semi-join the planner runs either way round (a rare word from the trigram
index, a common one by walking the newest calls), so a new call is found once its summary is
copied, within CALL_SEARCH_INDEX_SECONDS + CALL_SEARCH_SETTLE_SECONDS with a worker. (A search
that also read the not-yet-copied calls needs a UNION, which PostgreSQL cannot walk in order:
3.5 s for a common word at 300k calls.) Without a broker there is no worker: the Calls page
copies what is new itself before it searches (`catch_up`), as other tasks run in-process then.

Ids are handed out before commit, so on PostgreSQL a call may become visible after a higher
id did: only the calls created at least CALL_SEARCH_SETTLE_SECONDS ago are copied, in order,
up to the first younger one. A report commits within milliseconds of its INSERT."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Max, Q
from django.utils import timezone

from .models import Call, CallSearch

BATCH = 2_000


def indexed_through() -> int:
    """The highest call id indexed (0: none); every call up to it is in CallSearch."""
    return CallSearch.objects.aggregate(last=Max("call_id"))["last"] or 0


def summary_matches(search: str, *, workspace_id: int) -> Q:
    """The indexed calls whose summary contains `search` (case-insensitive), for any queryset
    of the workspace's calls."""
    matches = CallSearch.objects.filter(workspace_id=workspace_id, summary__icontains=search)
    return Q(pk__in=matches.values("call_id"))


def index_summaries(*, batch: int = BATCH, now=None) -> int:
    """Copy the summaries of the settled calls after the highest one indexed into CallSearch,
    each batch one statement; return how many calls were copied. Safe to run twice at once
    (ON CONFLICT DO NOTHING) and to stop anywhere."""
    settled = (now or timezone.now()) - timedelta(seconds=settings.CALL_SEARCH_SETTLE_SECONDS)
    done = 0
    while True:
        rows = list(
            Call.objects.filter(pk__gt=indexed_through())
            .order_by("pk")
            .values_list("pk", "workspace_id", "summary", "created_at")[:batch]
        )
        ready = []
        for pk, workspace_id, summary, created_at in rows:
            if created_at > settled:
                break
            ready.append(CallSearch(call_id=pk, workspace_id=workspace_id, summary=summary))
        CallSearch.objects.bulk_create(ready, ignore_conflicts=True)
        done += len(ready)
        if len(ready) < batch:
            return done


def catch_up() -> None:
    """Before a search where no worker runs (no broker: tasks run in-process), copy what is
    new; with a worker, beat does it."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        index_summaries()
