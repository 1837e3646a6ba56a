"""Outcome figures and before/after comparisons, read from the daily rollups only
(calls.models.DailyOutcome, never a scan of the calls), so a page or an API answer costs the same
at 10k or 1M calls: each read is a GROUP BY over rollup rows (days × versions × outcomes), in a
fixed number of queries.

- `outcome_figures`: calls and each outcome's share for a number, a Sona step and/or a job over
  a range of days (the API, and the number page's steps);
- `job_outcomes` / `number_outcomes`: everything the job page and the number page show (the
  comparison and the per-version figures);
- `job_comparison` / `callflow_comparison`: the latest change against the version before it,
  as plain dataclasses (the alert rules call these with a workspace and an object).

Real calls only: the rollups never count a mock call (calls/rollups.py).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from callflows.models import CallFlowVersion, PhoneNumber, Step, StepKind
from calls.models import DailyOutcome, Outcome
from calls.selectors.log import workspace_tz
from jobs.models import Job
from workspaces.models import Workspace

from .stats import MIN_CALLS, Change, Rate

DEFAULT_DAYS = 30  # the API's default range, and the number page's steps
MAX_VERSIONS = 10  # the per-version tables show the newest versions with calls
HEADLINE = Outcome.RESOLVED  # the outcome a comparison leads with

# Outcomes nobody wants: a rise is worse (stats.Change's higher_is_better).
UNWANTED = {Outcome.NO_JOB_MATCHED, Outcome.CALLER_HUNG_UP, Outcome.FAILED}


@dataclass(frozen=True)
class Share:
    outcome: str  # "resolved"
    label: str  # "Resolved"
    rate: Rate


@dataclass(frozen=True)
class Figures:
    """Real calls and the share of each outcome (every outcome, in the model's order)."""

    label: str  # "Version 4", "Sona", "" for a plain range
    calls: int
    shares: list[Share]
    key: object = None  # the version's number or history id, or the step's key

    @property
    def enough(self) -> bool:
        return self.calls >= MIN_CALLS

    def rate(self, outcome: str) -> Rate:
        return next((s.rate for s in self.shares if s.outcome == outcome), Rate(0, self.calls))


def figures(counts: dict[str, int], label: str = "", key=None) -> Figures:
    calls = sum(counts.values())
    shares = [Share(o, lbl, Rate(counts.get(o, 0), calls)) for o, lbl in Outcome.choices]
    return Figures(label=label, calls=calls, shares=shares, key=key)


@dataclass(frozen=True)
class Comparison:
    """The latest change (publish or job edit) against the version before it, on the resolved
    rate: `change.verdict` is better / worse / no clear change yet / too few calls yet.
    `diff_url` shows what changed; `rollback_url` (call flows only) publishes `before` again
    through the existing confirmation."""

    kind: str  # "job" or "callflow"
    before_label: str  # "Version 3"
    after_label: str  # "Version 4"
    before_number: int
    after_number: int
    before: Rate
    after: Rate
    change: Change
    outcome_label: str = "Resolved"
    diff_url: str = ""
    rollback_url: str = ""
    before_figures: Figures | None = field(default=None, repr=False)
    after_figures: Figures | None = field(default=None, repr=False)

    @property
    def verdict(self) -> str:
        return self.change.verdict

    @property
    def sentence(self) -> str:
        """ "Resolved 72% → 55% (−17 points, 95% interval −25 to −9) over 212 and 64 calls since
        version 4 — worse"; below MIN_CALLS on either side, no rate: "too few calls yet"."""
        since = f"since {self.after_label[:1].lower()}{self.after_label[1:]}"
        calls = f"{self.before.n} and {self.after.n} call{'' if self.after.n == 1 else 's'}"
        if not (self.before.enough and self.after.enough):
            return (
                f"{self.outcome_label} {since}: too few calls yet ({calls}; "
                f"{MIN_CALLS} needed on each side)"
            )
        low, high = self.change.interval
        return (
            f"{self.outcome_label} {percent(self.before.share)} → {percent(self.after.share)} "
            f"({points(self.change.difference, sign=True)} points, 95% interval "
            f"{points(low)} to {points(high)}) over {calls} {since} — {self.verdict}"
        )


def percent(share: float | None) -> str:
    return "—" if share is None else f"{round(share * 100)}%"


def points(difference: float, *, sign: bool = False) -> str:
    """A difference of shares in percentage points: "−17", "+4" (sign=True), "0"."""
    n = round(difference * 100)
    if n < 0:
        return f"−{-n}"  # a real minus sign
    return f"+{n}" if sign and n > 0 else str(n)


def share_words(rate: Rate) -> str:
    """ "55% (48–62%)", or "too few calls yet" under MIN_CALLS calls."""
    if not rate.enough:
        return "too few calls yet"
    low, high = rate.interval
    return f"{percent(rate.share)} ({round(low * 100)}–{round(high * 100)}%)"


# Reads ----------------------------------------------------------------------------------------


def _rollup(workspace: Workspace):
    return DailyOutcome.objects.filter(workspace=workspace)


def _grouped(rows, dimension: str) -> dict:
    """{dimension value: {outcome: calls}} in one GROUP BY query."""
    out: dict = defaultdict(dict)
    grouped = rows.values_list(dimension, "outcome").annotate(n=Sum("count")).order_by()
    for key, outcome, n in grouped:
        out[key][outcome] = n
    return out


def default_range(workspace: Workspace, days: int = DEFAULT_DAYS) -> tuple[date, date]:
    """The last `days` days up to today, in the workspace's zone (inclusive)."""
    today = timezone.now().astimezone(workspace_tz(workspace)).date()
    return today - timedelta(days=days - 1), today


def outcome_figures(
    *,
    workspace: Workspace,
    start: date,
    end: date,
    phone_number_id: int | None = None,
    step_key: str | None = None,
    job_id: int | None = None,
) -> Figures:
    """Real calls from `start` to `end` (days in the workspace's zone, inclusive) of a number,
    a step and/or a job, by outcome. One query."""
    rows = _rollup(workspace).filter(day__gte=start, day__lte=end)
    if phone_number_id is not None:
        rows = rows.filter(phone_number_id=phone_number_id)
    if step_key is not None:
        rows = rows.filter(step_key=step_key)
    if job_id is not None:
        rows = rows.filter(job_id=job_id)
    counts = dict(rows.values_list("outcome").annotate(n=Sum("count")).order_by())
    return figures(counts)


def _comparison(kind, before: Figures, after: Figures, numbers: tuple[int, int], **urls):
    b, a = before.rate(HEADLINE), after.rate(HEADLINE)
    return Comparison(
        kind=kind,
        before_label=before.label,
        after_label=after.label,
        before_number=numbers[0],
        after_number=numbers[1],
        before=b,
        after=a,
        change=Change(b, a, higher_is_better=HEADLINE not in UNWANTED),
        outcome_label=Outcome(HEADLINE).label,
        before_figures=before,
        after_figures=after,
        **urls,
    )


@dataclass(frozen=True)
class Outcomes:
    comparison: Comparison | None  # None before the first change (one version only)
    versions: list[Figures]  # newest first, versions with calls, at most MAX_VERSIONS
    steps: list[Figures] = field(default_factory=list)  # number page: Sona steps
    start: date | None = None  # the steps' range
    end: date | None = None

    @property
    def max_versions(self) -> int:
        return MAX_VERSIONS


def _since(at, workspace: Workspace) -> date:
    return at.astimezone(workspace_tz(workspace)).date()


def job_outcomes(*, workspace: Workspace, job: Job, latest_only: bool = False) -> Outcomes:
    """A job's figures per history version (numbered as its Versions page numbers them: 1 is
    its creation) and its latest edit against the version before it. 2 queries. With
    `latest_only`, only the comparison: the two versions' rows from the day the older one was
    saved (the alerts' check reads every live job's)."""
    history = list(
        Job.history.filter(id=job.pk)
        .order_by("history_id")
        .values_list("history_id", "history_date")
    )
    history_ids = [hid for hid, _ in history]
    rows = _rollup(workspace).filter(job_id=job.pk)
    if latest_only:
        if len(history) < 2:
            return Outcomes(comparison=None, versions=[])
        (before_id, saved), (after_id, _) = history[-2], history[-1]
        rows = rows.filter(
            job_history_id__in=[before_id, after_id], day__gte=_since(saved, workspace)
        )
    by_version = _grouped(rows, "job_history_id")
    numbered = {hid: n for n, hid in enumerate(history_ids, start=1)}
    versions = [
        figures(by_version[hid], f"Version {numbered[hid]}", key=hid)
        for hid in reversed(history_ids)
        if hid in by_version
    ][:MAX_VERSIONS]
    comparison = None
    if len(history_ids) >= 2:
        before_id, after_id = history_ids[-2], history_ids[-1]
        before = figures(
            by_version.get(before_id, {}), f"Version {len(history_ids) - 1}", before_id
        )
        after = figures(by_version.get(after_id, {}), f"Version {len(history_ids)}", after_id)
        diff = reverse("jobs:compare", args=[job.pk]) + f"?a={before_id}&b={after_id}"
        numbers = (len(history_ids) - 1, len(history_ids))
        comparison = _comparison("job", before, after, numbers, diff_url=diff)
    return Outcomes(comparison=comparison, versions=versions)


def job_comparison(*, workspace: Workspace, job: Job) -> Comparison | None:
    """The job's latest edit against the version before it (None for a job never edited)."""
    return job_outcomes(workspace=workspace, job=job, latest_only=True).comparison


def number_outcomes(
    *, workspace: Workspace, phone_number: PhoneNumber, steps: bool = True, latest_only=False
) -> Outcomes:
    """A number's figures per published call flow version (all of each version's calls), per
    Sona step of its draft over the last DEFAULT_DAYS days, and its latest publish (the live
    version: a rollback publishes a new one) against the version before it. 4 queries (2
    without the steps). With `latest_only`, only the comparison, from the two versions' rows
    since the older one was published."""
    published = list(
        CallFlowVersion.objects.filter(call_flow__phone_number=phone_number)
        .order_by("number")
        .values_list("number", "pk", "published_at")
    )
    rows = _rollup(workspace).filter(phone_number_id=phone_number.pk)
    if latest_only and len(published) >= 2:
        (before_n, _, at), (after_n, _, _) = published[-2], published[-1]
        rows = rows.filter(version_number__in=[before_n, after_n], day__gte=_since(at, workspace))
    by_version = _grouped(rows, "version_number")
    versions = [
        figures(by_version[number], f"Version {number}", key=number)
        for number, _, _ in reversed(published)
        if number in by_version
    ][:MAX_VERSIONS]
    comparison = None
    if len(published) >= 2:
        (before_n, before_pk, _), (after_n, after_pk, _) = published[-2], published[-1]
        before = figures(by_version.get(before_n, {}), f"Version {before_n}", key=before_n)
        after = figures(by_version.get(after_n, {}), f"Version {after_n}", key=after_n)
        comparison = _comparison(
            "callflow",
            before,
            after,
            (before_n, after_n),
            diff_url=reverse("callflows:version_compare", args=[phone_number.pk, after_pk]),
            rollback_url=reverse("callflows:rollback", args=[phone_number.pk, before_pk]),
        )
    if not steps:
        return Outcomes(comparison=comparison, versions=versions)
    start, end = default_range(workspace)
    named = list(
        Step.objects.filter(call_flow__phone_number=phone_number, kind=StepKind.SONA)
        .order_by("position", "pk")
        .values_list("key", "name")
    )
    by_step = _grouped(rows.filter(day__gte=start, day__lte=end), "step_key")
    step_figures = [figures(by_step.get(key, {}), name, key=key) for key, name in named]
    return Outcomes(
        comparison=comparison, versions=versions, steps=step_figures, start=start, end=end
    )


def callflow_comparison(*, workspace: Workspace, phone_number: PhoneNumber) -> Comparison | None:
    """The number's latest publish against the version before it (None before a second)."""
    return number_outcomes(
        workspace=workspace, phone_number=phone_number, steps=False, latest_only=True
    ).comparison
