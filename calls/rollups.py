"""Daily rollups (calls/models.py: DailyOutcome): real calls counted per number, step, job, job
version, call flow version, day and outcome, kept in the same transaction as the calls they count.

- a real call inserted: `count_call` adds 1 to its row (an upsert: `INSERT … ON CONFLICT DO
  UPDATE SET count = count + 1`, on PostgreSQL and SQLite alike; concurrent reports of the same
  row serialize on it, none is lost). call_report calls it after its raw INSERT; any other
  insert through the ORM (the demo, factories) is counted by the post_save receiver below;
- calls deleted (retention): `uncount_calls` takes them off before they go;
- `rebuild` recomputes a workspace's rows from its calls (`manage.py rebuild_rollups`, the
  migration that fills the table, and after a change of the workspace's time zone or country,
  which moves the calls' days).

Here, in the calls app, not in an `outcomes` app above it: the two writes that change the counts
(call_report, calls_prune) are in calls and must update the rows in their own transaction, and
the charts that read them are calls' too (calls/templatetags/calls_activity.py). An outcomes app
would need a signal from below for every insert and delete; the alerts and comparisons of the
next issue can live there and read this table downward.
"""

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, tzinfo

from django.db import connection, transaction
from django.db.models import Count, DateTimeField, Value
from django.db.models.functions import Greatest, Least, TruncDate
from django.db.models.signals import post_init, post_save
from django.dispatch import receiver

from workspaces.models import Workspace

from .models import SHOWABLE_FROM, SHOWABLE_TO, Call, DailyOutcome, Source
from .selectors.log import workspace_tz

REBUILD_BATCH = 5_000  # rows per INSERT when rebuilding

# (phone_number_id, step_key, job_id, job_history_id, version_number, day, outcome): one row's
# dimensions in a workspace; 0 stands for no number, job or version (see DailyOutcome).
Key = tuple[int, str, int, int, int, date, str]
_DIMS = (
    "phone_number_id",
    "step_key",
    "job_id",
    "job_history_id",
    "version_number",
    "day",
    "outcome",
)
_DAY = _DIMS.index("day")


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def call_key(call: Call, tz: tzinfo) -> Key:
    # Kept a day inside what a datetime holds, as Call.from_db shows it (a call stored before
    # the report API refused extreme times would overflow the date in some zones).
    started: datetime = min(max(call.started_at, SHOWABLE_FROM), SHOWABLE_TO)
    return (
        call.phone_number_id or 0,
        call.step_key or "",
        call.job_id or 0,
        call.job_history_id or 0,
        call.version_number or 0,
        started.astimezone(tz).date(),
        call.outcome,
    )


def _adapt(key: Key) -> list:
    values = list(key)
    values[_DAY] = connection.ops.adapt_datefield_value(key[_DAY])
    return values


def _add(workspace_id: int, counts: dict[Key, int]) -> None:
    """Add each count to its row, creating the rows that do not exist: one statement."""
    if not counts:
        return
    table = _q(DailyOutcome._meta.db_table)
    dims = ", ".join(_q(d) for d in ("workspace_id", *_DIMS))
    values, params = [], []
    row = "(" + ", ".join(["%s"] * (len(_DIMS) + 2)) + ")"
    for key, n in sorted(counts.items()):  # one order: two writers lock rows in the same order
        values.append(row)
        params += [workspace_id, *_adapt(key), n]
    sql = (
        f"INSERT INTO {table} ({dims}, {_q('count')}) VALUES {', '.join(values)} "  # noqa: S608
        f"ON CONFLICT ({dims}) DO UPDATE SET {_q('count')} = "
        f"{table}.{_q('count')} + EXCLUDED.{_q('count')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _subtract(workspace_id: int, counts: dict[Key, int]) -> None:
    """Take each count off its row (never below 0), then drop the rows left at 0."""
    if not counts:
        return
    table = _q(DailyOutcome._meta.db_table)
    where = " AND ".join(f"{_q(d)} = %s" for d in ("workspace_id", *_DIMS))
    sql = (
        f"UPDATE {table} SET {_q('count')} = CASE WHEN {_q('count')} > %s "  # noqa: S608
        f"THEN {_q('count')} - %s ELSE 0 END WHERE {where}"
    )
    rows = [[n, n, workspace_id, *_adapt(key)] for key, n in sorted(counts.items())]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
    days = {key[_DAY] for key in counts}
    DailyOutcome.objects.filter(workspace_id=workspace_id, day__in=days, count=0).delete()


def count_call(call: Call, workspace: Workspace | None = None) -> None:
    """Count one new call (nothing for a mock call). Call it in the insert's transaction."""
    if call.source != Source.LIVE:
        return
    workspace = workspace or call.workspace
    _add(call.workspace_id, {call_key(call, workspace_tz(workspace)): 1})


def uncount_calls(workspace: Workspace, calls: Iterable[Call]) -> None:
    """Take calls about to be deleted off the counts (mock calls were never counted). Call it
    in the delete's transaction, with the calls read there (`only(*ROLLUP_FIELDS)`)."""
    tz = workspace_tz(workspace)
    counts = Counter(call_key(c, tz) for c in calls if c.source == Source.LIVE)
    _subtract(workspace.pk, counts)


ROLLUP_FIELDS = ("phone_number_id", "step_key", "job_id", "job_history_id", "version_number")
ROLLUP_FIELDS += ("started_at",)
ROLLUP_FIELDS += ("outcome", "source")


@transaction.atomic
def rebuild(workspace: Workspace, *, since: date | None = None, until: date | None = None) -> int:
    """Recompute the workspace's rows from its real calls (all days, or the days from `since`
    to `until` inclusive, in its zone): delete them and insert the counts again, in one
    transaction (the pages read the old rows until it commits). Idempotent. Returns the rows
    written."""
    return rebuild_rows(
        Call, DailyOutcome, workspace.pk, workspace_tz(workspace), since=since, until=until
    )


def rebuild_rows(call_model, rollup_model, workspace_id: int, tz: tzinfo, *, since, until) -> int:
    """`rebuild` on given models (the migration that fills the table passes its historical
    ones). Grouped by the database: one row per key comes back, not one per call, and is
    inserted REBUILD_BATCH at a time. Only the dimensions the given model has (a migration
    before one was added fills the table as it was then)."""
    names = {f.name for f in rollup_model._meta.get_fields()}
    dims = [d for d in _DIMS if d in names]
    old = rollup_model.objects.filter(workspace_id=workspace_id)
    calls = call_model.objects.filter(workspace_id=workspace_id, source=Source.LIVE)
    showable = Least(
        Greatest("started_at", Value(SHOWABLE_FROM, DateTimeField())),
        Value(SHOWABLE_TO, DateTimeField()),
    )
    calls = calls.annotate(day=TruncDate(showable, tzinfo=tz))
    if since is not None:
        old, calls = old.filter(day__gte=since), calls.filter(day__gte=since)
    if until is not None:
        old, calls = old.filter(day__lte=until), calls.filter(day__lte=until)
    old.delete()
    grouped = calls.values_list(*dims).annotate(n=Count("id")).order_by()
    written, batch = 0, []
    for *values, n in grouped.iterator(chunk_size=REBUILD_BATCH):
        row = dict(zip(dims, values, strict=True))
        for name in ("phone_number_id", "job_id", "job_history_id", "version_number"):
            if name in row:
                row[name] = row[name] or 0  # a call's NULL is the rollup's 0
        batch.append(rollup_model(workspace_id=workspace_id, count=n, **row))
        if len(batch) >= REBUILD_BATCH:
            written += len(rollup_model.objects.bulk_create(batch))
            batch = []
    written += len(rollup_model.objects.bulk_create(batch))
    return written


@receiver(post_save, sender=Call)
def call_saved(sender, instance: Call, created: bool, raw: bool = False, **kwargs):
    """A real call inserted through the ORM (Call.objects.create, save) is counted in the same
    transaction. call_report's raw INSERT sends no signal and counts its own call; bulk_create
    sends none either (the demo rebuilds after it)."""
    if created and not raw:
        count_call(instance)


def _zone_fields(workspace: Workspace) -> tuple:
    return workspace.__dict__.get("time_zone"), workspace.__dict__.get("country")


@receiver(post_init, sender=Workspace)
def workspace_loaded(sender, instance: Workspace, **kwargs):
    instance._rollup_zone = _zone_fields(instance)  # no query: deferred fields read as None


@receiver(post_save, sender=Workspace)
def workspace_saved(sender, instance: Workspace, created: bool, raw: bool = False, **kwargs):
    """The workspace's zone decides each call's day: a new zone (its own or its country's)
    recounts its rows, after the change commits (workspace_set_time_zone, the admin)."""
    before, after = getattr(instance, "_rollup_zone", None), _zone_fields(instance)
    instance._rollup_zone = after
    if created or raw or before is None or None in before or None in after or before == after:
        return
    pk = instance.pk
    transaction.on_commit(lambda: rebuild(Workspace.objects.get(pk=pk)))
