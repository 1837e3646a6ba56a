"""Daily rollups (calls/models.py: DailyOutcome): real calls counted per number, step, job, job
version, day and outcome, kept in the same transaction as the calls they count.

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

import secrets
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
SHARDS = 32  # rows per key a report may count in (DailyOutcome): several per concurrent report

# (phone_number_id, step_key, job_id, job_history_id, version_number, day, outcome): one row's
# dimensions in a workspace; 0 stands for no number, job or version (see DailyOutcome).
Key = tuple[int, str, int, int, int, date, str]
DIMENSIONS = (
    "phone_number_id",
    "step_key",
    "job_id",
    "job_history_id",
    "version_number",
    "day",
    "outcome",
)
_DAY = DIMENSIONS.index("day")
_IDS = ("phone_number_id", "job_id", "job_history_id", "version_number")  # NULL on a call: 0


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


# The actions a failed one of counts in DailyOutcome.failed_actions.
FAILED_ACTION_TYPES = ("send_sms", "transfer_call")


def failed_actions(actions) -> int:
    """How many of a call's actions ([{"type", "status", "detail"}]) are a failed transfer or
    SMS."""
    if not isinstance(actions, list):
        return 0
    return sum(
        1
        for a in actions
        if isinstance(a, dict)
        and a.get("status") == "failed"
        and a.get("type") in FAILED_ACTION_TYPES
    )


def upsert_sql(rows: str) -> str:
    """`INSERT INTO the table (its dimensions, shard, count, failed_actions) <rows> ON CONFLICT
    … DO UPDATE`: adds each row's counts to the row of its key and shard, creating the rows
    that do not exist. `rows` is a VALUES list or a SELECT (call_report's statement counts the
    row it inserts)."""
    table = _q(DailyOutcome._meta.db_table)
    dims = ", ".join(_q(d) for d in ("workspace_id", *DIMENSIONS, "shard"))
    count, fails = _q("count"), _q("failed_actions")
    return (
        f"INSERT INTO {table} ({dims}, {count}, {fails}) {rows} "  # noqa: S608
        f"ON CONFLICT ({dims}) DO UPDATE SET {count} = {table}.{count} + EXCLUDED.{count}, "
        f"{fails} = {table}.{fails} + EXCLUDED.{fails}"
    )


def key_params(workspace_id: int, key: Key, shard: int = 0) -> list:
    """A key's values as statement parameters, in upsert_sql's column order (the counts
    excluded)."""
    values = list(key)
    values[_DAY] = connection.ops.adapt_datefield_value(key[_DAY])
    return [workspace_id, *values, shard]


def report_shard() -> int:
    """The shard a reported call is counted in: concurrent reports of one key spread over
    SHARDS rows, each locked only by its own writers until their commit."""
    return secrets.randbelow(SHARDS)


def _add(workspace_id: int, counts: dict[Key, int], failed: dict[Key, int] | None = None) -> None:
    """Add each count (and its failed actions) to its shard-0 row, creating the rows that do
    not exist: one statement."""
    if not counts:
        return
    failed = failed or {}
    values, params = [], []
    for key, n in sorted(counts.items()):  # one order: two writers lock rows in the same order
        values.append("(" + ", ".join(["%s"] * (len(DIMENSIONS) + 4)) + ")")
        params += [*key_params(workspace_id, key), n, failed.get(key, 0)]
    with connection.cursor() as cursor:
        cursor.execute(upsert_sql(f"VALUES {', '.join(values)}"), params)


def _subtract(
    workspace_id: int, counts: dict[Key, int], failed: dict[Key, int] | None = None
) -> None:
    """Take each count (and its failed actions) off its key: negative counts added to shard 0,
    so the key's sums drop by exactly that, whichever shards counted the calls; then drop the
    rows left at 0."""
    if not counts:
        return
    failed = failed or {}
    _add(
        workspace_id,
        {key: -n for key, n in counts.items()},
        {key: -n for key, n in failed.items()},
    )
    days = {key[_DAY] for key in counts}
    DailyOutcome.objects.filter(
        workspace_id=workspace_id, day__in=days, count=0, failed_actions=0
    ).delete()


def count_call(call: Call, workspace: Workspace | None = None) -> None:
    """Count one new call (nothing for a mock call). Call it in the insert's transaction."""
    if call.source != Source.LIVE:
        return
    workspace = workspace or call.workspace
    key = call_key(call, workspace_tz(workspace))
    _add(call.workspace_id, {key: 1}, {key: failed_actions(call.actions)})


def uncount_calls(workspace: Workspace, calls: Iterable[Call]) -> None:
    """Take calls about to be deleted off the counts (mock calls were never counted). Call it
    in the delete's transaction, with the calls read there (`only(*ROLLUP_FIELDS)`)."""
    tz = workspace_tz(workspace)
    counts, failed = Counter(), Counter()
    for call in calls:
        if call.source == Source.LIVE:
            key = call_key(call, tz)
            counts[key] += 1
            failed[key] += failed_actions(call.actions)
    _subtract(workspace.pk, counts, failed)


ROLLUP_FIELDS = (*_IDS, "step_key", "started_at", "outcome", "source", "actions")


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
    inserted REBUILD_BATCH at a time. Only the dimensions and counts the given model has (a
    migration before one was added fills the table as it was then)."""
    names = {f.name for f in rollup_model._meta.get_fields()}
    dims = [d for d in DIMENSIONS if d in names]
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
    # The failed actions, from the calls that have actions (a JSON list the database cannot
    # count the same way on PostgreSQL and SQLite); none before the column existed (the
    # migration that first filled the table passes a model without it).
    failed: Counter = Counter()
    has_failed = "failed_actions" in names
    if has_failed:
        with_actions = calls.exclude(actions=[]).values_list(*dims, "actions").order_by()
        for *values, actions in with_actions.iterator(chunk_size=REBUILD_BATCH):
            if n := failed_actions(actions):
                failed[_key(dims, values)] += n
    grouped = calls.values_list(*dims).annotate(n=Count("id")).order_by()
    written, batch = 0, []
    for *values, n in grouped.iterator(chunk_size=REBUILD_BATCH):
        key = _key(dims, values)
        extra = {"failed_actions": failed.get(key, 0)} if has_failed else {}
        batch.append(
            rollup_model(
                workspace_id=workspace_id, count=n, **dict(zip(dims, key, strict=True)), **extra
            )
        )
        if len(batch) >= REBUILD_BATCH:
            written += len(rollup_model.objects.bulk_create(batch))
            batch = []
    written += len(rollup_model.objects.bulk_create(batch))
    return written


def _key(dims: list[str], values: list) -> tuple:
    """A grouped row's values as a key of `dims`: a call's NULL number, job or version is 0."""
    return tuple(v or 0 if d in _IDS else v for d, v in zip(dims, values, strict=True))


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
