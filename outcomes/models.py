"""Alert rules (one row per workspace and kind, defaults on) and the alerts they raise.

An alert is raised once per rule and window: the database holds it (UniqueConstraint on rule and
window; outcomes/alerts.py inserts with get_or_create under it). The window of each kind is
described in outcomes/alerts.py."""

from django.conf import settings
from django.db import models
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from workspaces.models import Workspace

# The defaults of the rules (issue 23): no job matched above 15% of the last 50 real calls on a
# step; 3 or more failed transfers or SMS in a day (per number).
DEFAULT_PERCENT, DEFAULT_CALLS, DEFAULT_PER_DAY = 15, 50, 3
PERCENT_RANGE, CALLS_RANGE, PER_DAY_RANGE = (1, 99), (10, 500), (1, 1000)


class RuleKind(models.TextChoices):
    NO_JOB_MATCHED = "no_job_matched", "No job matched on a step"
    FAILED_ACTIONS = "failed_actions", "Failed transfers or SMS"
    WORSE_CHANGE = "worse_change", "A change made things worse"


class AlertRule(models.Model):
    """What to watch in a workspace. `percent` and `calls` are the no-job-matched rule's
    (above `percent`% of the last `calls` real calls on a step), `per_day` the failed-actions
    rule's; the worse-change rule has no parameter (worse with 95% confidence)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="alert_rules")
    kind = models.CharField(max_length=20, choices=RuleKind.choices)
    enabled = models.BooleanField(default=True)
    percent = models.PositiveSmallIntegerField(
        default=DEFAULT_PERCENT, help_text="No job matched: alert above this share of calls (%)."
    )
    calls = models.PositiveSmallIntegerField(
        default=DEFAULT_CALLS, help_text="No job matched: how many of a step's latest calls."
    )
    per_day = models.PositiveSmallIntegerField(
        default=DEFAULT_PER_DAY,
        help_text="Failed transfers or SMS: alert at this many in a day on one number.",
    )
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["workspace", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "kind"], name="alertrule_one_per_kind"),
            models.CheckConstraint(
                condition=models.Q(kind__in=RuleKind.values), name="alertrule_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(percent__gte=PERCENT_RANGE[0], percent__lte=PERCENT_RANGE[1]),
                name="alertrule_percent_range",
            ),
            models.CheckConstraint(
                condition=models.Q(calls__gte=CALLS_RANGE[0], calls__lte=CALLS_RANGE[1]),
                name="alertrule_calls_range",
            ),
            models.CheckConstraint(
                condition=models.Q(per_day__gte=PER_DAY_RANGE[0], per_day__lte=PER_DAY_RANGE[1]),
                name="alertrule_per_day_range",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} ({'on' if self.enabled else 'off'})"

    @property
    def description(self) -> str:
        if self.kind == RuleKind.NO_JOB_MATCHED:
            return (
                f"No job matched more than {self.percent}% of the last {self.calls} calls on a step"
            )
        if self.kind == RuleKind.FAILED_ACTIONS:
            return f"{self.per_day} or more failed transfers or SMS in a day on one number"
        return "A job edit or a publish made the resolved rate worse (95% confidence)"


def ensure_rules(workspace_id: int) -> None:
    """The workspace's rules with their defaults, for the kinds it has none of (idempotent)."""
    AlertRule.objects.bulk_create(
        [AlertRule(workspace_id=workspace_id, kind=kind) for kind in RuleKind.values],
        ignore_conflicts=True,
    )


@receiver(post_save, sender=Workspace, dispatch_uid="outcomes.default_alert_rules")
def workspace_created(sender, instance: Workspace, created: bool, raw: bool = False, **kwargs):
    """Every new workspace starts with the rules on (whichever way it is created: the service,
    the admin, a factory); existing ones got them in the migration."""
    if created and not raw:
        ensure_rules(instance.pk)


class AlertQuerySet(models.QuerySet):
    def open(self):
        return self.filter(resolved_at__isnull=True)


class Alert(models.Model):
    """One breach of a rule. `subject` is what it is about (a number's step, a number, a job, a
    number's publishes); `window` is the subject plus the period or change it was raised for.
    While the condition holds on the subject, the open alert stands; when it stops, the check
    resolves it (resolved_at set, resolved_by empty)."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="alerts", db_index=False
    )
    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="alerts")
    subject = models.CharField(max_length=100)
    window = models.CharField(max_length=200)
    message = models.CharField(max_length=500)
    # {"calls": [ids], "calls_url", "change_url", "change_label", "rollback_url",
    #  "rollback_label", "figures": {...}}: links as paths, built when it was raised.
    details = models.JSONField(default=dict, blank=True)
    raised_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Empty with a resolved time: resolved by the check (the condition cleared).",
    )

    objects = AlertQuerySet.as_manager()

    class Meta:
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "window"], name="alert_once_per_window"),
        ]
        indexes = [
            # The Alerts page (open first, newest first) and the nav's open count.
            models.Index(fields=["workspace", "resolved_at", "-raised_at"], name="alert_recent"),
        ]

    def __str__(self):
        return self.message

    def get_absolute_url(self):
        return reverse("outcomes:alerts") + f"#alert-{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    @property
    def resolved_automatically(self) -> bool:
        return self.resolved_at is not None and self.resolved_by_id is None
