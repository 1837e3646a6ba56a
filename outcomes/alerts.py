"""The alert check: each enabled rule evaluated per workspace, new breaches raised once, cleared
ones resolved. Celery beat runs `check_alerts` every ALERT_CHECK_SECONDS (outcomes/tasks.py);
`manage.py check_alerts` runs it once.

Every alert has a *subject* (what it is about) and a *window* (the subject plus the period or
the change it was raised for); the database holds one alert per rule and window
(`alert_once_per_window`). While a subject's condition holds, its open alert stands (no new
alert, whatever the window now is); when the condition stops holding, the check resolves the
alert itself (resolved_at set, resolved_by empty), and a later breach raises a new alert, in a
new window. A breach again in a window that already had its alert (resolved by hand or by the
check) raises nothing: once per rule and window.

- no job matched (`_no_job_matched`): subject = a Sona step of a number's live call flow
  version; holds while more than `percent`% of the step's last `calls` real calls (a full
  sample, within NO_JOB_LOOKBACK) ended "no job matched"; window = the step and the day (in
  the workspace's zone) of the newest of those calls: at most one alert per step and day.
- failed actions (`_failed_actions`): subject = a number; holds while the number's real calls
  of today (the workspace's zone) hold at least `per_day` failed transfers or SMS (counted in
  the daily rollups: DailyOutcome.failed_actions); window = the number and the day.
- worse change (`_worse_changes`): subject = a job used by a live version, or a number's
  publishes; holds while the resolved rate after the job's latest edit (or the number's live
  version) is worse than before it with 95% confidence (outcomes.stats.Change); window = that
  edit (job history id) or that version.

Reads are bounded whatever the number of calls: the last `calls` calls of a step on the
number's index, and the daily rollups (calls.models.DailyOutcome) for the failed actions and
the comparisons (a new failed-actions breach reads its number's calls of the day once, for its
links); the query count depends on the numbers, steps and live jobs, not on the calls.
"""

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from callflows.models import CallFlow, CallFlowVersion, PhoneNumber, StepKind
from calls.models import Call, DailyOutcome, Outcome
from calls.rollups import failed_actions
from calls.selectors.log import day_start, workspace_tz
from jobs.models import Job
from workspaces.models import EDITOR_ROLES, Membership, Workspace

from . import selectors, services
from .models import Alert, AlertRule, RuleKind
from .stats import WORSE, Rate

logger = logging.getLogger(__name__)

# The step rule reads a step's latest calls on the number's index (call_number_recent), checking
# the step on each row: bounded by this look-back, so a step that stopped getting calls never
# makes the check walk the number's whole history.
NO_JOB_LOOKBACK = timedelta(days=30)
FAILED_ACTION_TYPES = {"transfer_call": "transfer", "send_sms": "SMS"}  # in messages' order
# The outcome counted as "resolved" in the worse-change rule (the rate that must not fall).
RESOLVED = Outcome.RESOLVED
CALL_LINKS_MAX = 20  # an alert names at most this many calls; the Calls link has them all


@dataclass
class Breach:
    rule: AlertRule
    subject: str
    window: str
    message: str
    details: dict


@dataclass
class CheckResult:
    raised: list[Alert] = field(default_factory=list)
    resolved: list[Alert] = field(default_factory=list)
    workspaces: int = 0
    failed: list[Workspace] = field(default_factory=list)


@dataclass
class LiveNumber:
    """A number with a live call flow version, and the version published before it."""

    id: int
    name: str  # "Main line (+15555550100)"
    version_id: int
    version_number: int
    published_at: datetime
    snapshot: dict
    previous_id: int | None = None
    previous_number: int | None = None
    previous_published_at: datetime | None = None

    def change_links(self) -> dict:
        """The change behind an alert on this number (the live version against the one before)
        and its rollback (the previous version published again), as paths."""
        links = {
            "change_url": reverse("callflows:version_compare", args=[self.id, self.version_id]),
            "change_label": f"What version {self.version_number} changed",
        }
        if self.previous_id is not None:
            links["rollback_url"] = reverse("callflows:rollback", args=[self.id, self.previous_id])
            links["rollback_label"] = f"Roll back to version {self.previous_number}"
        return links


class _Context:
    """What one workspace's check reads once and every rule shares."""

    def __init__(self, workspace: Workspace, now: datetime):
        self.workspace, self.now = workspace, now
        self.tz = workspace_tz(workspace)
        self.today = now.astimezone(self.tz).date()
        self._numbers: list[LiveNumber] | None = None
        self.open_keys: set[tuple[int, str]] = set()  # (rule id, subject) of the open alerts

    @property
    def numbers(self) -> list[LiveNumber]:
        """The workspace's numbers in use with a live version: 2 queries."""
        if self._numbers is None:
            rows = (
                CallFlow.objects.filter(
                    phone_number__workspace=self.workspace,
                    phone_number__deleted_at__isnull=True,
                    live_version__isnull=False,
                )
                .order_by("phone_number__display_name", "phone_number_id")
                .values_list(
                    "id",
                    "phone_number_id",
                    "phone_number__display_name",
                    "phone_number__number",
                    "live_version_id",
                    "live_version__number",
                    "live_version__published_at",
                    "live_version__snapshot",
                )
            )
            numbers, by_flow = [], {}
            for flow_id, pk, name, e164, vid, vnum, at, snapshot in rows:
                number = LiveNumber(pk, f"{name} ({e164})", vid, vnum, at, snapshot or {})
                numbers.append(number)
                by_flow[flow_id] = number
            wanted = Q()
            for flow_id, number in by_flow.items():
                if number.version_number > 1:
                    wanted |= Q(call_flow_id=flow_id, number=number.version_number - 1)
            if wanted:
                previous = CallFlowVersion.objects.filter(wanted).values_list(
                    "call_flow_id", "id", "number", "published_at"
                )
                for flow_id, vid, vnum, at in previous:
                    number = by_flow[flow_id]
                    number.previous_id, number.previous_number = vid, vnum
                    number.previous_published_at = at
            self._numbers = numbers
        return self._numbers


def _pct(k: int, n: int) -> int:
    return round(100 * k / n) if n else 0


def _calls_url(**params) -> str:
    return reverse("calls:list") + "?" + urlencode({k: v for k, v in params.items() if v != ""})


def step_calls(number_id: int, step_key: str, *, since: datetime, limit: int):
    """A step's latest real calls (id, outcome, started_at), newest first: the number's index
    (call_number_recent: phone_number, -started_at, -id) read from its newest end, the step
    and the source checked on the rows read, LIMIT `limit`."""
    return (
        Call.objects.real()
        .filter(phone_number_id=number_id, step_key=step_key, started_at__gte=since)
        .order_by("-started_at", "-id")
        .values_list("id", "outcome", "started_at")[:limit]
    )


def _no_job_matched(ctx: _Context, rule: AlertRule) -> list[Breach]:
    """One query per Sona step of each live version: its last `rule.calls` real calls."""
    breaches = []
    since = ctx.now - NO_JOB_LOOKBACK
    for number in ctx.numbers:
        for step in number.snapshot.get("steps", []):
            if step.get("kind") != StepKind.SONA:
                continue
            rows = list(step_calls(number.id, step["key"], since=since, limit=rule.calls))
            if len(rows) < rule.calls:
                continue  # not a full sample yet
            missed = [pk for pk, outcome, _ in rows if outcome == Outcome.NO_JOB_MATCHED]
            if len(missed) * 100 <= rule.percent * len(rows):
                continue
            day = rows[0][2].astimezone(ctx.tz).date()
            subject = f"step:{number.id}:{step['key']}"
            share = _pct(len(missed), len(rows))
            message = (
                f"No job matched {len(missed)} of the last {len(rows)} calls on step "
                f"“{step.get('name', '')}” of {number.name} ({share}%, above {rule.percent}%)."
            )
            details = {
                "calls": missed[:CALL_LINKS_MAX],
                "calls_url": _calls_url(number=number.id, outcome=Outcome.NO_JOB_MATCHED),
                "figures": {"matched_none": len(missed), "calls": len(rows), "share": share},
                **number.change_links(),
            }
            breaches.append(Breach(rule, subject, f"{subject}:{day.isoformat()}", message, details))
    return breaches


def _failed_actions(ctx: _Context, rule: AlertRule) -> list[Breach]:
    """Today's failed transfers and SMS per number, from the daily rollups
    (DailyOutcome.failed_actions, kept on report and prune: calls/rollups.py), on the
    (phone_number_id, day) index: one query whatever the calls. Only a new breach (no open
    alert on the number) reads the number's calls of the day, once, for its links."""
    numbers = {n.id: n for n in ctx.numbers}
    if not numbers:
        return []
    totals = (
        DailyOutcome.objects.filter(
            workspace=ctx.workspace,
            phone_number_id__in=list(numbers),
            day=ctx.today,
            failed_actions__gt=0,
        )
        .values_list("phone_number_id")
        .annotate(n=Sum("failed_actions"))
        .order_by()
    )
    breaches = []
    day = ctx.today.isoformat()
    for number_id, total in totals:
        if total < rule.per_day:
            continue
        number, subject = numbers[number_id], f"number:{number_id}"
        details = {
            "calls_url": _calls_url(number=number_id, date_from=day, date_to=day),
            "figures": {"failed": total},
            **number.change_links(),
        }
        words = ""
        if (rule.pk, subject) not in ctx.open_keys:
            calls, counts = _failed_calls(ctx, number_id)
            details["calls"] = calls[:CALL_LINKS_MAX]
            parts = [
                f"{counts[t]} {word}{'s' if counts[t] != 1 and word != 'SMS' else ''}"
                for t, word in FAILED_ACTION_TYPES.items()
                if counts[t]
            ]
            words = f"{', '.join(parts)}; " if parts else ""
        message = (
            f"{total} failed transfers or SMS on {number.name} on {ctx.today:%b %-d} "
            f"({words}the rule alerts at {rule.per_day})."
        )
        breaches.append(Breach(rule, subject, f"{subject}:{day}", message, details))
    return breaches


def _failed_calls(ctx: _Context, number_id: int) -> tuple[list[int], Counter]:
    """The number's real calls of today with a failed transfer or SMS (newest first) and the
    failures by type: its index (call_number_recent), one day's range. Read once per window."""
    start = day_start(ctx.today, ctx.tz)
    end = day_start(ctx.today + timedelta(days=1), ctx.tz)
    rows = (
        Call.objects.real()
        .filter(phone_number_id=number_id, started_at__gte=start, started_at__lt=end)
        .exclude(actions=[])
        .order_by("-started_at", "-id")
        .values_list("id", "actions")
    )
    calls, counts = [], Counter()
    for pk, actions in rows.iterator(chunk_size=2000):
        failed = [a["type"] for a in actions if failed_actions([a])]
        if failed:
            counts.update(failed)
            calls.append(pk)
    return calls, counts


def _rates(rows) -> dict:
    """{key: Rate(resolved, calls)} from (key, calls, resolved) rows."""
    return {key: Rate(int(k or 0), int(n or 0)) for key, n, k in rows}


def _rate_words(rate: Rate) -> str:
    return f"{_pct(rate.k, rate.n)}% ({rate.k} of {rate.n} calls)"


def _worse_changes(ctx: _Context, rule: AlertRule) -> list[Breach]:
    """Job edits (the jobs the live versions use) and publishes (each live version)."""
    breaches = []
    job_ids = sorted(
        {
            int(job_id)
            for number in ctx.numbers
            for step in number.snapshot.get("steps", [])
            for job_id in step.get("jobs", [])
        }
    )
    # The same comparisons the job and number pages lead with (outcomes/selectors.py).
    for job in Job.objects.filter(pk__in=job_ids).order_by("pk"):
        compared = selectors.job_comparison(workspace=ctx.workspace, job=job)
        if compared is None or compared.verdict != WORSE:
            continue
        before, after = compared.before, compared.after
        old_id, new_id = compared.before_figures.key, compared.after_figures.key
        subject = f"job:{job.pk}"
        message = (
            f"Since the edit of “{job.name}” ({compared.after_label.lower()}), its calls were "
            f"resolved {_rate_words(after)}, down from {_rate_words(before)} before: worse, "
            "with 95% confidence."
        )
        details = {
            "calls_url": _calls_url(job=job.pk),
            "change_url": compared.diff_url,
            "change_label": "What the edit changed",
            "rollback_url": reverse("jobs:version_restore", args=[job.pk, old_id]),
            "rollback_label": "Restore the version before the edit",
            "figures": {"before": [before.k, before.n], "after": [after.k, after.n]},
        }
        breaches.append(Breach(rule, subject, f"{subject}:{new_id}", message, details))
    for number in ctx.numbers:
        if number.previous_id is None:
            continue
        compared = selectors.callflow_comparison(
            workspace=ctx.workspace, phone_number=PhoneNumber(pk=number.id)
        )
        if compared is None or compared.verdict != WORSE:
            continue
        before, after = compared.before, compared.after
        subject = f"publish:{number.id}"
        message = (
            f"Since version {number.version_number} of {number.name} was published, its calls "
            f"were resolved {_rate_words(after)}, down from {_rate_words(before)} under "
            f"version {number.previous_number}: worse, with 95% confidence."
        )
        since = number.published_at.astimezone(ctx.tz).date()
        details = {
            "calls_url": _calls_url(number=number.id, date_from=since.isoformat()),
            "figures": {"before": [before.k, before.n], "after": [after.k, after.n]},
            **number.change_links(),
        }
        window = f"{subject}:{number.version_id}"
        breaches.append(Breach(rule, subject, window, message, details))
    return breaches


CHECKS = {
    RuleKind.NO_JOB_MATCHED: _no_job_matched,
    RuleKind.FAILED_ACTIONS: _failed_actions,
    RuleKind.WORSE_CHANGE: _worse_changes,
}


def _email(alert: Alert) -> None:
    """To the owners and admins who opted in ("Email me alerts"), one email each."""
    recipients = list(
        Membership.objects.filter(
            workspace_id=alert.workspace_id, role__in=EDITOR_ROLES, alert_emails=True
        )
        .filter(user__is_active=True)
        .values_list("user__email", flat=True)
    )
    if not recipients:
        return
    base = settings.PLAYBOOK_BASE_URL.rstrip("/")
    details = alert.details or {}
    lines = [alert.message, "", f"See the alert: {base}{alert.get_absolute_url()}"]
    for key, label in (
        ("calls_url", "The calls"),
        ("change_url", details.get("change_label") or "The change"),
        ("rollback_url", details.get("rollback_label") or "Roll back"),
    ):
        if details.get(key):
            lines.append(f"{label}: {base}{details[key]}")
    lines += ["", "You get these because you chose “Email me alerts” on the Alerts page."]
    subject = f"Playbook alert ({alert.workspace.name}): {alert.rule.get_kind_display()}"
    for email in recipients:  # one each: members do not see each other's addresses
        try:
            send_mail(subject, "\n".join(lines), None, [email])
        except Exception:  # noqa: BLE001 - a mail server down must not stop the other alerts
            logger.exception("Alert %s: the email to %s failed", alert.pk, email)


def _after_raise(alert_pk: int) -> None:
    alert = Alert.objects.select_related("rule", "workspace").get(pk=alert_pk)
    _email(alert)


def _check_workspace(workspace: Workspace, rules: list[AlertRule], now: datetime, result):
    ctx = _Context(workspace, now)
    open_alerts = {
        (a.rule_id, a.subject): a
        for a in Alert.objects.open().filter(rule__in=rules).select_related("workspace")
    }
    ctx.open_keys = set(open_alerts)
    breaches: dict[tuple[int, str], Breach] = {}
    for rule in rules:
        rule.workspace = workspace
        for breach in CHECKS[rule.kind](ctx, rule):
            breaches.setdefault((rule.pk, breach.subject), breach)
    for key, alert in open_alerts.items():
        if key not in breaches and services.alert_resolve_cleared(alert=alert, now=now):
            result.resolved.append(alert)
    for key, breach in breaches.items():
        if key in open_alerts:
            continue  # it still holds: the open alert stands
        alert = services.alert_raise(
            rule=breach.rule,
            subject=breach.subject,
            window=breach.window,
            message=breach.message,
            details=breach.details,
            now=now,
        )
        if alert is not None:
            result.raised.append(alert)
            transaction.on_commit(lambda pk=alert.pk: _after_raise(pk))
    services.open_alerts_recount(workspace=workspace)


def check_alerts(*, workspace: Workspace | None = None, now: datetime | None = None) -> CheckResult:
    """Evaluate every enabled rule (of one workspace, or all), raise new breaches once, resolve
    the alerts whose condition cleared. Idempotent: a second run right after changes nothing."""
    now = now or timezone.now()
    rules = (
        AlertRule.objects.filter(enabled=True)
        .select_related("workspace")
        .order_by("workspace_id", "kind")
    )
    if workspace is not None:
        rules = rules.filter(workspace=workspace)
    by_workspace: dict[int, list[AlertRule]] = defaultdict(list)
    for rule in rules:
        by_workspace[rule.workspace_id].append(rule)
    result = CheckResult()
    for ws_rules in by_workspace.values():
        try:
            _check_workspace(ws_rules[0].workspace, ws_rules, now, result)
        except Exception:
            # one workspace's failure (logged) must not keep the others unchecked; re-raised
            # after them so the task and the command report it
            logger.exception("check_alerts failed for workspace %s", ws_rules[0].workspace_id)
            result.failed.append(ws_rules[0].workspace)
        result.workspaces += 1
    if result.failed:
        names = ", ".join(w.slug for w in result.failed)
        raise AlertCheckFailed(f"The alert check failed for: {names} (see the log).", result)
    return result


class AlertCheckFailed(RuntimeError):
    def __init__(self, message: str, result: CheckResult):
        super().__init__(message)
        self.result = result
