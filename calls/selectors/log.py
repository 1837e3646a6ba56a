"""Reads for the Calls pages: the list (filters, keyset pages), one call and the CSV export, each
counted in the workspace's time zone."""

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from django.core import signing
from django.db.models import Count, Max, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from jobs.models import Job
from workspaces.models import Workspace

from ..models import Call, Outcome, Source
from ..search import summary_matches

LIST_PAGE_SIZE = 50
EXPORT_CHUNK = 2_000
CURSOR_SALT = "calls.list.cursor"
# What a row of the Calls page shows (and the cursor needs).
LIST_FIELDS = (
    "workspace_id",
    "started_at",
    "caller",
    "number",
    "source",
    "job_id",
    "job_name",
    "outcome",
    "actions",
)
SEARCH_MAX = 200  # longer searches are cut (as the job library does)


def workspace_tz(workspace: Workspace) -> tzinfo:
    """The zone a workspace's days are counted in: its own, else its country's main zone (the
    one its pages show times in: workspaces/middleware.py)."""
    try:
        return zoneinfo.ZoneInfo(workspace.zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):  # a zone tzdata has since dropped
        return timezone.get_default_timezone()


# The Source filter of the Calls page and its export: real calls by default (mock calls are kept
# apart: product.md, "Call summaries"), mock calls, or all.
ALL_SOURCES = "all"
SOURCE_CHOICES = (
    (Source.LIVE, "Real calls"),
    (Source.MOCK, "Mock calls"),
    (ALL_SOURCES, "All"),
)
BAD_SOURCE = "Choose Real calls, Mock calls or All."


@dataclass(frozen=True)
class CallFilters:
    """What the Calls page filters on; every field optional. Ids are already checked to belong
    to the workspace (calls/forms.py); the queryset is scoped to the workspace anyway."""

    phone_number_id: int | None = None
    job_id: int | None = None
    outcome: str = ""
    source: str = Source.LIVE  # real calls unless mock calls (Source.MOCK) or ALL_SOURCES are asked
    date_from: date | None = None  # inclusive, in the workspace's zone
    date_to: date | None = None  # inclusive, in the workspace's zone
    search: str = ""


def day_start(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz)


def calls_filtered(*, workspace: Workspace, filters: CallFilters) -> QuerySet[Call]:
    """The workspace's calls matching the filters, newest first: each filter column has an
    index with (started_at, id) after it (calls/models.py), the search CallSearch's trigram index
    (calls/search.py)."""
    calls = Call.objects.filter(workspace=workspace)
    if filters.phone_number_id is not None:
        calls = calls.filter(phone_number_id=filters.phone_number_id)
    if filters.job_id is not None:
        calls = calls.filter(job_id=filters.job_id)
    if filters.outcome:
        calls = calls.filter(outcome=filters.outcome)
    if filters.source != ALL_SOURCES:  # call_mock_recent, or another filter's index
        calls = calls.filter(source=filters.source or Source.LIVE)
    tz = workspace_tz(workspace)
    if filters.date_from:
        calls = calls.filter(started_at__gte=day_start(filters.date_from, tz))
    if filters.date_to:
        calls = calls.filter(started_at__lt=day_start(filters.date_to + timedelta(days=1), tz))
    if search := filters.search.strip()[:SEARCH_MAX]:
        calls = calls.filter(summary_matches(search, workspace_id=workspace.pk))
    return calls.order_by("-started_at", "-id")


# A cursor is the (started_at, id) of the row a page starts after, signed so that a link
# cannot be forged into a query of anything else; a bad one is refused (BadCursor).
class BadCursor(ValueError):
    pass


def cursor_encode(call: Call) -> str:
    return signing.dumps([call.started_at.isoformat(), call.pk], salt=CURSOR_SALT, compress=False)


def cursor_decode(value: str) -> tuple[datetime, int]:
    try:
        started, pk = signing.loads(value, salt=CURSOR_SALT)
        started_at = datetime.fromisoformat(started)
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise BadCursor("This page link is not valid any more.") from exc
    if type(pk) is not int or pk < 1 or started_at.tzinfo is None:
        raise BadCursor("This page link is not valid any more.")
    return started_at, pk


@dataclass(frozen=True)
class CallPage:
    calls: list[Call]
    newer: str  # the cursor of the newer page ("" on the first page)
    older: str  # the cursor of the older page ("" on the last page)


def _older_than(calls: QuerySet, started_at: datetime, pk: int) -> QuerySet:
    # started_at <= t first, so the planner walks the index from the cursor on.
    return calls.filter(started_at__lte=started_at).filter(
        Q(started_at__lt=started_at) | Q(pk__lt=pk)
    )


def _newer_than(calls: QuerySet, started_at: datetime, pk: int) -> QuerySet:
    return calls.filter(started_at__gte=started_at).filter(
        Q(started_at__gt=started_at) | Q(pk__gt=pk)
    )


def call_page(
    calls: QuerySet[Call], *, after: str = "", before: str = "", size: int | None = None
) -> CallPage:
    """One page of `calls` (newest first) by keyset: `after` a cursor gives older calls, `before`
    one newer calls. One query whichever page it is: page 5,000 costs what page 1 costs.
    Raises BadCursor for a cursor that was not made by cursor_encode."""
    size = size or LIST_PAGE_SIZE
    calls = calls.only(*LIST_FIELDS)  # never the transcript (up to 100,000 characters)
    if before:
        rows = list(
            _newer_than(calls, *cursor_decode(before)).order_by("started_at", "id")[: size + 1]
        )
        more_newer = len(rows) > size
        rows = rows[:size][::-1]
        return CallPage(
            rows,
            newer=cursor_encode(rows[0]) if rows and more_newer else "",
            older=cursor_encode(rows[-1]) if rows else "",
        )
    if after:
        calls = _older_than(calls, *cursor_decode(after))
    rows = list(calls[: size + 1])
    more_older = len(rows) > size
    rows = rows[:size]
    return CallPage(
        rows,
        newer=cursor_encode(rows[0]) if rows and after else "",
        older=cursor_encode(rows[-1]) if rows and more_older else "",
    )


def call_get(*, workspace: Workspace, pk: int) -> Call:
    """One call of the workspace (another workspace's call is a 404), with the number of the
    job's history version it used and the history id of the version before it, so the page can
    link to "what this version changed" in the job's history."""
    call = get_object_or_404(Call, workspace=workspace, pk=pk)
    call.job_version_number = call.job_previous_history_id = None
    if call.job_id and call.job_history_id:
        found = Job.history.filter(id=call.job_id, history_id__lte=call.job_history_id).aggregate(
            number=Count("history_id"),
            previous=Max("history_id", filter=Q(history_id__lt=call.job_history_id)),
            this=Count("history_id", filter=Q(history_id=call.job_history_id)),
        )
        if found["this"]:  # the history row exists (and is this job's)
            call.job_version_number = found["number"]
            call.job_previous_history_id = found["previous"] or call.job_history_id
    return call


EXPORT_COLUMNS = (
    ("started_at", "Started"),
    ("ended_at", "Ended"),
    ("number", "Number"),
    ("caller", "Caller"),
    ("source", "Source"),
    ("version_number", "Call flow version"),
    ("step_name", "Step"),
    ("job_name", "Job"),
    ("job_history_id", "Job history id"),
    ("score", "Score"),
    ("outcome", "Outcome"),
    ("actions", "Actions"),
    ("summary", "Summary"),
    ("next_steps", "Next steps"),
    ("recording_url", "Recording"),
    ("external_id", "External id"),
)


def calls_export_rows(calls: QuerySet[Call]):
    """The rows of a CSV export of `calls`, read in chunks (a server-side cursor on PostgreSQL),
    so memory stays flat at any size. Values are plain strings; the view makes them CSV-safe."""
    fields = [name for name, _ in EXPORT_COLUMNS]
    outcomes, sources = dict(Outcome.choices), dict(Source.choices)
    for row in calls.values_list(*fields).iterator(chunk_size=EXPORT_CHUNK):
        values = dict(zip(fields, row, strict=True))
        values["outcome"] = outcomes.get(values["outcome"], values["outcome"])
        values["source"] = sources.get(values["source"], values["source"])
        values["actions"] = "; ".join(_action_text(a) for a in values["actions"] or [])
        values["next_steps"] = "; ".join(str(s) for s in values["next_steps"] or [])
        for key in ("started_at", "ended_at"):
            values[key] = values[key].isoformat() if values[key] else ""
        yield ["" if values[name] is None else str(values[name]) for name in fields]


def _action_text(action) -> str:
    if not isinstance(action, dict):
        return str(action)
    text = f"{action.get('type', '')}: {action.get('status', '')}"
    return f"{text} ({action['detail']})" if action.get("detail") else text


# "N new calls" (the Calls page and the home page poll for it): real calls newer than the newest
# one the page showed, counted up to NEW_CALLS_CAP + 1 rows on the call_recent index
# (workspace, -started_at, -id): the same cost at 1,000 or 1,000,000 calls.
NEW_CALLS_CAP = 50


def newest_cursor(*, workspace: Workspace) -> str:
    """The cursor of the workspace's newest real call ("" when it has none): one query."""
    newest = Call.objects.real().filter(workspace=workspace).only("pk", "started_at").first()
    return cursor_encode(newest) if newest else ""


def new_calls_count(*, workspace: Workspace, since: str) -> int:
    """Real calls of the workspace newer than the cursor `since` (every real call when it is
    empty: the page showed none), at most NEW_CALLS_CAP + 1 (shown as "50+"). One query.
    Raises BadCursor for a cursor that was not made by cursor_encode."""
    calls = Call.objects.real().filter(workspace=workspace)
    if since:
        calls = _newer_than(calls, *cursor_decode(since))
    return calls.order_by().values("pk")[: NEW_CALLS_CAP + 1].count()
