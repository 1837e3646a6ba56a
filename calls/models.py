"""Calls (mock and live, one model with the next issue's report API) and saved test cases."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual

from callflows.models import CallFlow, PhoneNumber
from jobs.models import Job
from workspaces.models import Workspace

SUMMARY_MAX = 5_000
TRANSCRIPT_MAX = 100_000
SAID_MAX = 500  # one caller turn: mock calls, test cases and POST …/route


class Source(models.TextChoices):
    LIVE = "live", "Live"
    MOCK = "mock", "Mock call"


class CallQuerySet(models.QuerySet):
    def real(self):
        """Real calls only (reported by the telephony runtime): every outcome figure counts
        these, never a mock call. Each index that a figure or list reads has (started_at, id)
        after its leading columns, and the figures read `outcome` from the row anyway, so the
        source is checked on the same rows at no extra cost."""
        return self.filter(source=Source.LIVE)


class Outcome(models.TextChoices):
    RESOLVED = "resolved", "Resolved"
    MESSAGE_TAKEN = "message_taken", "Message taken"
    TRANSFERRED = "transferred", "Transferred"
    SMS_SENT = "sms_sent", "SMS sent"
    VOICEMAIL = "voicemail", "Voicemail"
    CALLER_HUNG_UP = "caller_hung_up", "Caller hung up"
    NO_JOB_MATCHED = "no_job_matched", "No job matched"
    FAILED = "failed", "Failed"


class Call(models.Model):
    """One call and its summary. Names and numbers are copied, so a call still reads right after
    its job, step or number is renamed or deleted."""

    # No single-column indexes on these three: the composite indexes below start with them
    # (fewer indexes to update on every report).
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="calls", db_index=False
    )
    phone_number = models.ForeignKey(
        PhoneNumber,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls",
        db_index=False,
    )
    number = models.CharField(max_length=16, help_text="The number that took the call (E.164).")
    source = models.CharField(max_length=4, choices=Source.choices)
    external_id = models.CharField(max_length=100, blank=True)
    caller = models.CharField(max_length=16, default="anonymous")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    version_number = models.PositiveIntegerField(
        null=True, blank=True, help_text="The call flow version that answered; empty: the draft."
    )
    step_key = models.CharField(max_length=12, blank=True)
    step_name = models.CharField(max_length=100, blank=True)
    job = models.ForeignKey(
        Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls", db_index=False
    )
    job_name = models.CharField(max_length=100, blank=True)
    job_history_id = models.PositiveIntegerField(
        null=True, blank=True, help_text="The job's history version (history id) at that moment."
    )
    score = models.FloatField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    actions = models.JSONField(default=list, blank=True)  # [{"type", "status", "detail"}]
    summary = models.TextField(blank=True)
    next_steps = models.JSONField(default=list, blank=True)
    transcript = models.TextField(blank=True)
    recording_url = models.URLField(max_length=500, blank=True)
    # POST /api/v1/calls: the Idempotency-Key header (or external_id) and the digest of the
    # report's body, so a retry answers the first call and a different body under it is a 409.
    idempotency_key = models.CharField(max_length=255, blank=True)
    request_digest = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who ran a mock call.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CallQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "external_id"],
                condition=~models.Q(external_id=""),
                name="call_external_id_unique",
            ),
            models.UniqueConstraint(
                fields=["workspace", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="call_idempotency_key_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(source__in=Source.values), name="call_source_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(outcome__in=Outcome.values), name="call_outcome_valid"
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("summary"), SUMMARY_MAX),
                name="call_summary_max",
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("transcript"), TRANSCRIPT_MAX),
                name="call_transcript_max",
            ),
            models.CheckConstraint(
                condition=models.Q(score__isnull=True) | models.Q(score__gte=0, score__lte=1),
                name="call_score_range",
            ),
        ]
        # The Calls page is newest first with keyset pagination ((started_at, id) < cursor),
        # optionally filtered by one of these columns: each filter has its own index.
        indexes = [
            models.Index(fields=["workspace", "-started_at", "-id"], name="call_recent"),
            models.Index(fields=["job", "-started_at", "-id"], name="call_job_recent"),
            models.Index(fields=["phone_number", "-started_at", "-id"], name="call_number_recent"),
            models.Index(
                fields=["workspace", "outcome", "-started_at", "-id"], name="call_outcome_recent"
            ),
            models.Index(
                fields=["workspace", "source", "-started_at", "-id"], name="call_source_recent"
            ),
        ]

    def __str__(self):
        return (
            f"{self.get_source_display()} call to {self.number} at {self.started_at:%Y-%m-%d %H:%M}"
        )


class StepTestCase(models.Model):
    """ "When a caller says X, Sona picks job Y (or no job) [and would perform action Z]".

    Stored per Sona step `key`, which survives publish and rollback, so one case tests the draft
    and every version of that step. The expected job's name is copied: when the job is deleted
    the case fails ("expects a deleted job") instead of silently expecting no job."""

    call_flow = models.ForeignKey(CallFlow, on_delete=models.CASCADE, related_name="test_cases")
    step_key = models.CharField(max_length=12)
    said = models.CharField(max_length=SAID_MAX)
    expects_job = models.BooleanField(default=True)
    expected_job = models.ForeignKey(
        Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="test_cases"
    )
    expected_job_name = models.CharField(max_length=100, blank=True)
    expected_action = models.CharField(
        max_length=20,
        blank=True,
        choices=[("send_sms", "Send SMS"), ("transfer_call", "Transfer call")],
        help_text="Optional: the job must also perform this action.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["call_flow", "step_key", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["call_flow", "step_key", "said"], name="steptestcase_said_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(expects_job=True) | models.Q(expected_job__isnull=True),
                name="steptestcase_no_job_has_no_job",
            ),
            models.CheckConstraint(
                condition=models.Q(expects_job=True) | models.Q(expected_action=""),
                name="steptestcase_no_job_no_action",
            ),
        ]

    def __str__(self):
        target = f"“{self.expected_job_name}”" if self.expects_job else "no job"
        return f"“{self.said}” → {target}"


class JobVector(models.Model):
    """The router's model's unit vector of one text (a job's name, caller intent, description, an
    instruction sentence, a test case's sentence), content-addressed: one row per (model, text),
    shared by every job, version and workspace that has the text. Rows are never updated: an
    edit makes new texts (new rows); another model id makes new rows (`embed_jobs --prune`
    drops the old ones). Computed on write (calls/receivers.py) and on deploy (`embed_jobs`),
    read by calls/vectors.py; never computed for a job on the request path."""

    model = models.CharField(max_length=100)  # routing.model_id(), e.g. "all-MiniLM-L6-v2"
    digest = models.CharField(max_length=64)  # sha256 hex of the text (UTF-8)
    vector = models.BinaryField()  # float32, little-endian, unit length
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["model", "digest"], name="jobvector_model_digest")
        ]

    def __str__(self):
        return f"{self.model} {self.digest[:12]}"
