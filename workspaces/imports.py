"""Import runs: background work that records its own progress and result (an ImportRun row).

A service creates the run and enqueues its task on commit (`import_run_enqueue`); the task
calls `import_run_execute` with two steps of its own:

- `prepare(run, deadline)` does the slow part outside any transaction (fetching a page,
  reading files) and returns what to save; it may run twice if the task is delivered twice.
- `commit(run, prepared)` saves it with a write service (whose savepoint undoes its writes
  when it refuses), inside the transaction that holds the run's row lock and
  marks the run done. A second delivery of the task waits for that lock and then finds the run
  done, so nothing is created twice; a worker lost mid-commit leaves nothing half-written.

Every run has a total deadline: Celery's soft time limit on a worker, and the same deadline
checked between steps here (so eager mode, without a broker, keeps it too).
"""

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from core.errors import error_messages

from .models import ImportFile, ImportRun, User, Workspace

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3  # a run whose worker was lost this many times is not started again
ERROR_MAX = 2000
# The pages and the command put "Nothing was imported." before these.
UNEXPECTED = (
    "Something went wrong on our side. Try again; if it happens again, contact support and "
    "mention import #{pk}."
)
TOO_SLOW = "The import took longer than {seconds} seconds and was stopped."
INTERRUPTED = "The import was interrupted {attempts} times and was stopped; try again."
NOT_QUEUED = (
    "Background work is not available right now, so the import did not start; try again in "
    "a few minutes."
)


class DeadlineExceeded(Exception):
    """The run's total deadline passed between two steps."""


@dataclass
class Deadline:
    seconds: float
    started: float = field(default_factory=time.monotonic)

    def check(self) -> None:
        if time.monotonic() - self.started > self.seconds:
            raise DeadlineExceeded


@dataclass
class RunResult:
    created_ids: list[int] = field(default_factory=list)
    created: int | None = None  # default: len(created_ids)
    updated: int = 0
    summary: str = ""


def time_limit(kind: str) -> int:
    """The total deadline, in seconds, of a run of this kind (settings.IMPORT_TIME_LIMITS)."""
    return settings.IMPORT_TIME_LIMITS[kind]


def import_run_create(
    *,
    workspace: Workspace,
    user: User,
    kind: str,
    url: str = "",
    files: Sequence[tuple[str, bytes]] = (),
    total: int = 1,
) -> ImportRun:
    """A queued run with its input. Call inside the service's transaction, with its role
    check done."""
    run = ImportRun.objects.create(
        workspace=workspace, created_by=user, kind=kind, url=url, total=total
    )
    ImportFile.objects.bulk_create(
        ImportFile(run=run, position=i, name=name[:255], data=data, size=len(data))
        for i, (name, data) in enumerate(files)
    )
    return run


def import_run_enqueue(run: ImportRun, task) -> None:
    """Send the run's task once the transaction commits (in eager mode: run it then). If the
    broker cannot take it, the run fails with a message instead of the request failing."""
    run_id = run.pk

    def send():
        try:
            task.delay(run_id)
        except Exception:  # the broker is down or refuses: say so on the run's page
            logger.exception("Could not queue import run %s", run_id)
            _fail(run_id, NOT_QUEUED)

    transaction.on_commit(send)


def _lock(run_id: int) -> ImportRun:
    return ImportRun.objects.select_for_update().get(pk=run_id)


def _end(run: ImportRun, status: str) -> None:
    run.status = status
    run.finished_at = timezone.now()
    run.save()
    run.files.all().delete()  # the uploaded bytes are not kept once the run is over


def _fail(run_id: int, message: str) -> None:
    with transaction.atomic():
        run = _lock(run_id)
        if run.is_finished:
            return
        run.error = message[:ERROR_MAX]
        _end(run, ImportRun.Status.FAILED)


def _claim(run_id: int) -> ImportRun | None:
    """Mark the run running; None when there is nothing to do (finished, or gone)."""
    with transaction.atomic():
        run = ImportRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.is_finished:
            return None
        if run.attempts >= MAX_ATTEMPTS:
            run.error = INTERRUPTED.format(attempts=run.attempts)
            _end(run, ImportRun.Status.FAILED)
            return None
        run.status = ImportRun.Status.RUNNING
        run.attempts += 1
        run.started_at = run.started_at or timezone.now()
        run.save()
        return run


def import_run_progress(run: ImportRun, done: int, total: int | None = None) -> None:
    """Record progress at once (its own small write, outside the run's transaction)."""
    run.done = done
    run.total = max(total if total is not None else run.total, done)
    ImportRun.objects.filter(pk=run.pk, status=ImportRun.Status.RUNNING).update(
        done=run.done, total=run.total
    )


def _refusal(exc: Exception) -> str:
    return " ".join(error_messages(exc))


def import_run_execute(
    run_id: int,
    *,
    prepare: Callable[[ImportRun, Deadline], Any],
    commit: Callable[[ImportRun, Any], RunResult],
) -> ImportRun | None:
    """Do one run, once, within its deadline, and record how it ended on its row."""
    run = _claim(run_id)
    if run is None:
        return ImportRun.objects.filter(pk=run_id).first()
    seconds = time_limit(run.kind)
    deadline = Deadline(seconds)
    try:
        if run.created_by is None or not run.created_by.is_active:
            raise ValidationError("The person who started this import can no longer sign in.")
        prepared = prepare(run, deadline)
        deadline.check()
        with transaction.atomic():
            locked = _lock(run_id)
            if locked.is_finished:  # another delivery of the task finished it meanwhile
                return locked
            try:
                # A write service: its own savepoint rolls its writes back when it refuses.
                result = commit(locked, prepared)
            except (ValidationError, PermissionDenied) as exc:
                # Recorded in this transaction, which also commits the refusal's audit event.
                locked.error = _refusal(exc)[:ERROR_MAX]
                _end(locked, ImportRun.Status.FAILED)
            else:
                deadline.check()  # past it: everything here rolls back, the run fails below
                locked.result_ids = result.created_ids
                locked.created_count = (
                    result.created if result.created is not None else len(result.created_ids)
                )
                locked.updated_count = result.updated
                locked.summary = result.summary[:500]
                locked.done = locked.total = max(locked.total, locked.done, 1)
                _end(locked, ImportRun.Status.DONE)
            return locked
    except (ValidationError, PermissionDenied) as exc:
        _fail(run_id, _refusal(exc))
    except (DeadlineExceeded, SoftTimeLimitExceeded):
        _fail(run_id, TOO_SLOW.format(seconds=seconds))
    except Exception:
        logger.exception("Import run %s failed", run_id)
        _fail(run_id, UNEXPECTED.format(pk=run_id))
    return ImportRun.objects.filter(pk=run_id).first()
