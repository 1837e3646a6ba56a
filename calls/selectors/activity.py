"""Reads for the activity charts: "since your last edit" and real calls per day by outcome, for a
job or a number (drawn by calls/charts.py), from the daily rollups (calls/models.py:
DailyOutcome), never a scan of the calls."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo

from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils import timezone

from callflows.models import CallFlowVersion, PhoneNumber
from jobs.models import Job
from workspaces.models import Workspace

from ..models import Call, DailyOutcome, Outcome
from .log import day_start, workspace_tz

ACTIVITY_DAYS = 30


@dataclass(frozen=True)
class Edit:
    at: datetime
    day: date
    label: str  # "Version 4"


@dataclass
class Activity:
    """Real calls (never mock calls) of one job (or number) per day and outcome over the last
    `days` days, the edits (job history rows, or published call flow versions) in that window,
    and the calls since the last edit by outcome. Built with a constant number of queries (GROUP
    BY day, outcome)."""

    days: list[date]
    counts: dict[date, dict[str, int]]  # day -> outcome -> calls
    edits: list[Edit]
    last_edit: datetime | None
    since: list[tuple[str, str, int]]  # (outcome, label, calls) since the last edit, most first
    tz: tzinfo = field(repr=False, default=UTC)

    @property
    def since_total(self) -> int:
        return sum(n for _, _, n in self.since)

    @property
    def total(self) -> int:
        return sum(sum(c.values()) for c in self.counts.values())

    @property
    def outcomes(self) -> list[tuple[str, str]]:
        """The outcomes that occur in the window, in the model's order (chart legend)."""
        seen = {o for c in self.counts.values() for o in c}
        return [(value, label) for value, label in Outcome.choices if value in seen]


def _activity(
    calls: QuerySet, rollup: QuerySet, edits: list[Edit], last_edit, tz, days: int, today
) -> Activity:
    """Read from the daily rollups (calls/rollups.py), so the cost does not grow with the
    calls: the window's counts per day and outcome, and the counts since the last edit, which
    are the rollup's days after the edit's day plus that day's calls from the edit on (one
    day's calls of one job or number, read on its index)."""
    first = today - timedelta(days=days - 1)
    counts: dict[date, dict[str, int]] = {}
    grouped = (
        rollup.filter(day__gte=first, day__lte=today)
        .values_list("day", "outcome")
        .annotate(n=Sum("count"))
        .order_by()
    )
    for day, outcome, n in grouped:
        counts.setdefault(day, {})[outcome] = n
    since = []
    if last_edit is not None:
        labels = dict(Outcome.choices)
        edit_day = last_edit.astimezone(tz).date()
        later_days = rollup.filter(day__gt=edit_day).values_list("outcome").annotate(n=Sum("count"))
        # Bounded on both sides: that day's calls only (calls.real(): no mock call counts).
        edit_day_rest = (
            calls.real()
            .filter(
                started_at__gte=last_edit,
                started_at__lt=day_start(edit_day + timedelta(days=1), tz),
            )
            .values_list("outcome")
            .annotate(n=Count("id"))
        )
        by_outcome: dict[str, int] = {}
        for o, n in later_days.order_by().union(edit_day_rest.order_by(), all=True):
            by_outcome[o] = by_outcome.get(o, 0) + n
        since = sorted(
            ((o, labels.get(o, o), n) for o, n in by_outcome.items()), key=lambda r: (-r[2], r[1])
        )
    return Activity(
        days=[first + timedelta(days=i) for i in range(days)],
        counts=counts,
        edits=[e for e in edits if e.day >= first],
        last_edit=last_edit,
        since=since,
        tz=tz,
    )


def _today(tz) -> date:
    return timezone.now().astimezone(tz).date()


def job_activity(*, workspace: Workspace, job: Job, days: int = ACTIVITY_DAYS) -> Activity:
    """A job's real calls across its versions; each history row (an edit) is marked. 4 queries."""
    tz = workspace_tz(workspace)
    today = _today(tz)
    start = day_start(today - timedelta(days=days - 1), tz)
    history = Job.history.filter(id=job.pk)
    before = history.filter(history_date__lt=start).count()
    rows = list(
        history.filter(history_date__gte=start)
        .order_by("history_id")
        .values_list("history_date", flat=True)
    )
    if rows:
        last_edit = rows[-1]
    else:
        last_edit = history.order_by("-history_id").values_list("history_date", flat=True).first()
    edits = [
        Edit(at, at.astimezone(tz).date(), f"Version {before + n}")
        for n, at in enumerate(rows, start=1)
    ]
    calls = Call.objects.filter(workspace=workspace, job=job)
    rollup = DailyOutcome.objects.filter(workspace=workspace, job_id=job.pk)
    return _activity(calls, rollup, edits, last_edit, tz, days, today)


def number_activity(
    *, workspace: Workspace, phone_number: PhoneNumber, days: int = ACTIVITY_DAYS
) -> Activity:
    """A number's real calls across its call flow versions; each publish is marked. 3 queries."""
    tz = workspace_tz(workspace)
    today = _today(tz)
    start = day_start(today - timedelta(days=days - 1), tz)
    versions = list(
        CallFlowVersion.objects.filter(call_flow__phone_number=phone_number)
        .filter(Q(published_at__gte=start) | Q(pk=F("call_flow__live_version")))
        .order_by("number")
        .values_list("number", "published_at")
    )
    edits = [
        Edit(at, at.astimezone(tz).date(), f"Version {number} published") for number, at in versions
    ]
    last_edit = max((at for _, at in versions), default=None)
    calls = Call.objects.filter(workspace=workspace, phone_number=phone_number)
    rollup = DailyOutcome.objects.filter(workspace=workspace, phone_number_id=phone_number.pk)
    return _activity(calls, rollup, edits, last_edit, tz, days, today)
