"""Call retention: the calls (and transcripts) older than the workspace keeps them, deleted
(cleared) in batches sized to stay short."""

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from workspaces import audit
from workspaces.models import Workspace

from .. import rollups
from ..models import Call

PRUNE_BATCH = 5_000
# A batch slower than this halves the next one (down to PRUNE_MIN_BATCH); one faster than a
# fifth of it doubles the next (up to the batch size asked for), so a slow disk or wide rows
# (transcripts) do not make one transaction hold its row locks long.
PRUNE_BATCH_TARGET = 0.5
PRUNE_MIN_BATCH = 100


class _Sizer:
    def __init__(self, largest: int):
        self.largest = self.size = largest

    def __call__(self) -> int:
        return self.size

    def took(self, seconds: float) -> None:
        if seconds > PRUNE_BATCH_TARGET:
            self.size = max(min(PRUNE_MIN_BATCH, self.largest), self.size // 2)
        elif seconds < PRUNE_BATCH_TARGET / 5:
            self.size = min(self.largest, self.size * 2)


@dataclass(frozen=True)
class PruneResult:
    """What calls_prune did (or, on a dry run, would do) in one workspace."""

    workspace: Workspace
    call_days: int
    transcript_days: int | None
    calls_deleted: int
    transcripts_cleared: int
    dry_run: bool


def _old_calls(workspace: Workspace, before: datetime) -> QuerySet:
    # Served by the call_recent index (workspace, started_at, id), read from its old end.
    return Call.objects.filter(workspace=workspace, started_at__lt=before)


def _id_batches(calls: QuerySet, size: Callable[[], int]) -> Iterator[list[int]]:
    """The ids of `calls`, oldest first, `size` at a time. Keyset on (started_at, id): each
    batch's query starts where the last one ended, so it never walks over the rows (or dead
    index entries) of the batches already done, and calls inserted meanwhile are no obstacle."""
    last = None
    while True:
        page = calls
        if last is not None:
            page = page.filter(started_at__gte=last[0]).exclude(started_at=last[0], pk__lte=last[1])
        rows = list(page.order_by("started_at", "pk").values_list("started_at", "pk")[: size()])
        if not rows:
            return
        yield [pk for _, pk in rows]
        last = rows[-1]


def _timed(on_batch, sizer: _Sizer, kind: str, work: Callable[[], int]) -> int:
    """Run one batch in its own short transaction; report its size and duration."""
    started = time.perf_counter()
    with transaction.atomic():
        done = work()
    seconds = time.perf_counter() - started
    sizer.took(seconds)
    if on_batch is not None:
        on_batch(kind, done, seconds)
    return done


def calls_prune(
    *,
    workspace: Workspace | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
    batch_size: int = PRUNE_BATCH,
    on_batch: Callable[[str, int, float], None] | None = None,
) -> list[PruneResult]:
    """Apply each workspace's retention (or one workspace's): delete its calls started more than
    `call_retention_days` ago, then clear the transcripts (summaries kept) of calls started more
    than `transcript_retention_days` ago. A dry run counts and changes nothing.

    A system job, not a write on anyone's behalf: no acting user and no role check, since it
    only enforces what each owner set (workspace_set_retention checks that role). Each batch of
    at most `batch_size` ids is its own transaction, deleting or updating by primary key: it
    locks only those rows, briefly (a slow batch halves the next), so reports inserting new calls (POST /api/v1/calls) and
    the pages go on meanwhile. Run it outside any transaction (the command does). Each
    workspace where something changed gets one `call.pruned` audit event, without an actor.
    `on_batch(kind, rows, seconds)` is told about every batch (the bench times them).
    """
    if batch_size < 1:
        raise ValidationError("The batch size must be at least 1.")
    now = now or timezone.now()
    workspaces = [workspace] if workspace is not None else Workspace.objects.order_by("slug", "pk")
    results = []
    for ws in workspaces:
        ws.refresh_from_db(fields=["call_retention_days", "transcript_retention_days"])
        results.append(_prune_workspace(ws, now, dry_run, batch_size, on_batch))
    return results


def _delete_calls(ws: Workspace, ids: list[int], cutoff: datetime) -> int:
    """Delete these calls (re-checked by date: an id is never a newer call than the batch read)
    and take them off the daily rollups, in the caller's transaction. The rows are locked and
    read first, so exactly the calls deleted are uncounted."""
    batch = Call.objects.filter(pk__in=ids, started_at__lt=cutoff)
    calls = list(batch.select_for_update().only(*rollups.ROLLUP_FIELDS).order_by("pk"))
    rollups.uncount_calls(ws, calls)
    return Call.objects.filter(pk__in=[c.pk for c in calls]).delete()[0]


def _prune_workspace(ws: Workspace, now, dry_run, batch_size, on_batch) -> PruneResult:
    call_cutoff = now - timedelta(days=ws.call_retention_days)
    transcript_days = ws.transcript_retention_days
    old_calls = _old_calls(ws, call_cutoff)
    old_transcripts = None
    if transcript_days is not None and transcript_days < ws.call_retention_days:
        transcript_cutoff = now - timedelta(days=transcript_days)
        old_transcripts = (
            _old_calls(ws, transcript_cutoff)
            .filter(started_at__gte=call_cutoff)
            .exclude(transcript="")
        )
    if dry_run:
        deleted = old_calls.count()
        cleared = old_transcripts.count() if old_transcripts is not None else 0
    else:
        deleted = cleared = 0
        sizer = _Sizer(batch_size)
        for ids in _id_batches(old_calls, sizer):
            deleted += _timed(
                on_batch,
                sizer,
                "delete",
                lambda ids=ids: _delete_calls(ws, ids, call_cutoff),
            )
        if old_transcripts is not None:
            for ids in _id_batches(old_transcripts, sizer):
                cleared += _timed(
                    on_batch,
                    sizer,
                    "transcripts",
                    lambda ids=ids: (
                        Call.objects.filter(pk__in=ids).exclude(transcript="").update(transcript="")
                    ),
                )
        if deleted or cleared:
            with transaction.atomic():
                audit.record(
                    user=None,
                    workspace=ws,
                    action="call.pruned",
                    label=f"{deleted:,} calls deleted, {cleared:,} transcripts cleared",
                    details={
                        "calls_deleted": deleted,
                        "transcripts_cleared": cleared,
                        "call_days": ws.call_retention_days,
                        "transcript_days": transcript_days,
                    },
                )
    return PruneResult(ws, ws.call_retention_days, transcript_days, deleted, cleared, dry_run)
