"""Reads for call reports (POST /api/v1/calls, calls/services/reports.py): what a report is
checked against, and the call already stored under its key, in one query each."""

from dataclasses import dataclass
from functools import cache, lru_cache

from django.db import connection

from callflows.live import fetch_one
from callflows.models import CallFlow, CallFlowVersion, PhoneNumber, Step, StepKind
from jobs.models import Job

from ..models import Call


@dataclass(frozen=True)
class ReportContext:
    """What a call report is checked against, read in one query (calls/services/reports.py: call_report)."""

    phone_id: int
    call_flow_id: int | None
    version_number: int | None  # the version live at started_at
    version_steps: dict[str, str] | None  # ... and its Sona steps' names by key (as it was then)
    draft_step_name: str | None  # the draft's Sona step with the reported key, if any
    job_name: str | None  # None: no such job in the workspace (soft-deleted ones count)
    job_history_id: int | None  # the job's history version: named, or live at started_at
    job_history_name: str | None


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


# Scalar subqueries on indexed columns, one round trip, prepared once per connection on
# PostgreSQL (callflows.live.fetch_one): the ORM took longer to compile this than to run it.
# Parameters: workspace, number; started x2 (version), step; job, workspace (job); job, version,
# version, started x2 (history id), and the same again (history name).
_HISTORY = (
    "FROM {history} h WHERE h.id = %s AND (h.history_id = CAST(%s AS bigint) "
    "OR (CAST(%s AS bigint) IS NULL AND h.history_date <= %s)) "
    "ORDER BY h.history_date DESC, h.history_id DESC LIMIT 1"
)
_VERSION = (
    "FROM {version} v WHERE v.call_flow_id = c.id AND v.published_at <= %s "
    "ORDER BY v.published_at DESC, v.number DESC LIMIT 1"
)


@cache
def _context_sql() -> str:
    tables = {
        "history": _table(Job.history.model),
        "version": _table(CallFlowVersion),
    }
    history, version = _HISTORY.format(**tables), _VERSION.format(**tables)
    return (
        f"SELECT p.id, c.id, (SELECT v.number {version}), "  # noqa: S608 (names from models)
        f"(SELECT v.id {version}), "
        f"(SELECT s.name FROM {_table(Step)} s WHERE s.call_flow_id = c.id AND s.key = %s "
        f"AND s.kind = '{StepKind.SONA}'), "
        f"(SELECT j.name FROM {_table(Job)} j WHERE j.id = %s AND j.workspace_id = %s), "
        f"(SELECT h.history_id {history}), (SELECT h.name {history}) "
        f"FROM {_table(PhoneNumber)} p "
        f"LEFT JOIN {_table(CallFlow)} c ON c.phone_number_id = p.id "
        "WHERE p.workspace_id = %s AND p.number = %s "
        # The number in use; else the last deleted one (a call that was on the line when its
        # number was deleted is still reported and kept).
        "ORDER BY CASE WHEN p.deleted_at IS NULL THEN 0 ELSE 1 END, p.deleted_at DESC LIMIT 1"
    )


def report_context(
    *, workspace_id: int, number: str, started_at, step: str, job: int | None, job_version
) -> ReportContext | None:
    """The number (None: not the workspace's), its call flow version live at `started_at`, the
    draft step, the job and its history version: one query of scalar subqueries."""
    started = connection.ops.adapt_datetimefield_value(started_at)
    job_id = job if job is not None else 0  # no job has id 0: the job subqueries find nothing
    history = [job_id, job_version, job_version, started]
    params = [started, started, step, job_id, workspace_id, *history, *history]
    params += [workspace_id, number]
    row = fetch_one(_context_sql(), params)
    if row is None:
        return None
    return ReportContext(
        phone_id=row[0],
        call_flow_id=row[1],
        version_number=row[2],
        version_steps=version_steps(row[3]) if row[3] is not None else None,
        draft_step_name=row[4] if step else None,
        job_name=row[5],
        job_history_id=row[6],
        job_history_name=row[7],
    )


@lru_cache(maxsize=256)
def version_steps(version_id: int) -> dict[str, str]:
    """A published version's Sona steps' names by key. Kept per process: a version is never
    changed (only deleted with its number, and then nothing reports against it), so its
    snapshot, often the largest thing a report would read, is read once, not on every call."""
    snapshot = CallFlowVersion.objects.values_list("snapshot", flat=True).get(pk=version_id)
    return {
        s["key"]: s.get("name", "")
        for s in snapshot.get("steps", [])
        if s.get("kind") == StepKind.SONA and "key" in s
    }


def report_existing(*, workspace_id: int, key: str, external_id: str) -> tuple | None:
    """(id, request digest) of the call stored under this idempotency key, else of the one with
    this external id (taken under another key): one query of two probes, each on its unique
    index. Each probe repeats its partial index's condition (`<> ''`) word for word, so a
    generic plan (a prepared statement reused by a pooler, `plan_cache_mode`) can use that
    index without knowing the values; an `OR` of the two could not, and scanned every call."""
    table = _table(Call)
    sql = (  # each constraint is unique in a workspace: at most one row per probe
        f"SELECT id, request_digest, 0 AS probe FROM {table} "  # noqa: S608 (model names)
        "WHERE workspace_id = %s AND idempotency_key = %s AND idempotency_key <> '' "
        f"UNION ALL SELECT id, request_digest, 1 FROM {table} "
        "WHERE workspace_id = %s AND external_id = %s AND external_id <> '' "
        "ORDER BY probe LIMIT 1"
    )
    row = fetch_one(sql, [workspace_id, key, workspace_id, external_id])
    return row[:2] if row is not None else None


def step_name_in_any_version(*, call_flow_id: int, step: str) -> str | None:
    """A Sona step's name in the newest version that has it (a step since removed from the
    draft and not in the version live at the time: rare, so a scan of the snapshots is fine)."""
    for snapshot in CallFlowVersion.objects.filter(call_flow_id=call_flow_id).values_list(
        "snapshot", flat=True
    ):
        for s in snapshot.get("steps", []):
            if s.get("key") == step and s.get("kind") == StepKind.SONA:
                return s.get("name", "")
    return None
