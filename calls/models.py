"""Calls (mock and live, one model with the report API), scenarios (tests) and the router's
stored vectors."""

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models.functions import Length, Lower
from django.db.models.lookups import GreaterThan, LessThanOrEqual

from callflows.models import CallFlow, PhoneNumber
from jobs.models import Job
from workspaces.models import Workspace

SUMMARY_MAX = 5_000
TRANSCRIPT_MAX = 100_000
SAID_MAX = 500  # one caller turn: mock calls, scenarios and POST …/route
# The times a page can show in every time zone (UTC-14 to UTC+14): a day inside datetime's range.
SHOWABLE_FROM = datetime.min.replace(tzinfo=UTC) + timedelta(days=1)
SHOWABLE_TO = datetime.max.replace(tzinfo=UTC) - timedelta(days=1)


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
            # the admin: every workspace newest first, and its exact searches
            models.Index(fields=["-started_at", "-id"], name="call_started"),
            models.Index(
                fields=["external_id"], condition=~models.Q(external_id=""), name="call_external_id"
            ),
            models.Index(fields=["caller"], name="call_caller"),
            models.Index(fields=["phone_number", "-started_at", "-id"], name="call_number_recent"),
            models.Index(
                fields=["workspace", "outcome", "-started_at", "-id"], name="call_outcome_recent"
            ),
            # Mock calls (the Source filter's "Mock calls") are few: a partial index that a
            # real call's INSERT does not touch. Real calls, nearly every row, read call_recent.
            models.Index(
                fields=["workspace", "-started_at", "-id"],
                condition=models.Q(source="mock"),
                name="call_mock_recent",
            ),
        ]

    def __str__(self):
        return (
            f"{self.get_source_display()} call to {self.number} at {self.started_at:%Y-%m-%d %H:%M}"
        )

    @classmethod
    def from_db(cls, db, field_names, values):
        """A call as read, its times kept a day inside what a datetime holds: a call stored
        before the report API refused extreme times (year 1, year 9999) still shows in any
        time zone (it would overflow there: a 500 on every page that shows it)."""
        call = super().from_db(db, field_names, values)
        for name in ("started_at", "ended_at"):
            value = call.__dict__.get(name)
            if value is not None:
                call.__dict__[name] = min(max(value, SHOWABLE_FROM), SHOWABLE_TO)
        return call


class CallSearch(models.Model):
    """The Calls page's search index: each call's summary, copied here by a background task
    (calls/search.py) rather than indexed on `Call` itself, so a call report's INSERT does not
    maintain a trigram index (PostgreSQL: `callsearch_summary_trgm`, migration 0017). Calls
    newer than this table's highest `call_id` are searched on the calls table directly (the
    tail since the last run); an older call is here exactly when it exists (deleted with it)."""

    call = models.OneToOneField(
        Call, primary_key=True, on_delete=models.CASCADE, related_name="search_row"
    )
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    summary = models.TextField(blank=True)

    def __str__(self):
        return f"Search row of call {self.call_id}"


SCENARIO_NAME_MAX = 100
SCENARIO_TURNS_MAX = 12
SCENARIO_RUNS_MAX = 20
SCENARIO_ACTIONS = (("send_sms", "Send SMS"), ("transfer_call", "Transfer call"))


class Scenario(models.Model):
    """A short script of what a caller says, turn by turn, and what must happen: the job chosen
    by the end (or at one turn), actions performed or never performed, a clarifying question.
    A one-turn scenario whose expectation names a job is a test case: an example of that job's
    intent for the router (calls/candidates.py).

    Stored per Sona step `key`, which survives publish and rollback, so one scenario tests the
    draft and every version of that step. `expect` (checked by calls/scenarios.clean_expect):
    {"job": name | None (key absent: not checked), "at_turn": n, "actions": [...],
    "transfer_to": "<member email | number | +E164>", "never": [...], "clarify": bool}.
    The job is named, not linked: a file names it the same way, and an expectation outlives
    the job (a deleted job's scenario fails, it does not silently expect no job)."""

    call_flow = models.ForeignKey(CallFlow, on_delete=models.CASCADE, related_name="scenarios")
    step_key = models.CharField(max_length=12)
    name = models.CharField(max_length=SCENARIO_NAME_MAX)
    turns = models.JSONField(help_text="What the caller says, turn by turn (1–12 sentences).")
    expect = models.JSONField(default=dict, blank=True)
    runs = models.PositiveSmallIntegerField(
        default=1, help_text="With the LLM router: how many times to run it."
    )
    pass_rate = models.PositiveSmallIntegerField(
        default=100, help_text="With the LLM router: the share of runs (%) that must pass."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The last run from the Tests tab: {"draft": {"passed", "problem"}, "live": … | None}.
    last_run = models.JSONField(default=dict, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["call_flow", "step_key", "id"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"), "call_flow", "step_key", name="scenario_name_unique"
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("name"), SCENARIO_NAME_MAX)
                & GreaterThan(Length("name"), 0),
                name="scenario_name_length",
            ),
            models.CheckConstraint(condition=~models.Q(turns=[]), name="scenario_has_turns"),
            models.CheckConstraint(
                condition=models.Q(runs__gte=1, runs__lte=SCENARIO_RUNS_MAX),
                name="scenario_runs_range",
            ),
            models.CheckConstraint(
                condition=models.Q(pass_rate__gte=0, pass_rate__lte=100),
                name="scenario_pass_rate_range",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def example_job(self) -> str | None:
        """The job this scenario is an example of (a one-turn scenario expecting a job at its
        only turn), else None."""
        job = self.expect.get("job") if isinstance(self.expect, dict) else None
        return job if isinstance(job, str) and len(self.turns or []) == 1 else None


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


class DailyOutcome(models.Model):
    """Real calls (never mock calls) counted per workspace, number, step, job, job version, call
    flow version, day (in the workspace's zone at the call's start) and outcome: what every
    outcome figure and chart reads (calls/selectors/activity.py), so a page costs the same at 10k or 1M calls.
    Kept by calls/rollups.py in the same transaction as the call's insert or delete; `manage.py
    rebuild_rollups` recomputes it from the calls.

    The number, job and job version are plain ids, 0 for none (as `step_key` is "" for none): a
    unique constraint over nullable columns does not hold on every database (NULLs are
    distinct), and `INSERT … ON CONFLICT` needs one that does. Not foreign keys: a purged job or
    number (the call keeps its row, with the link emptied) must neither cascade its counts away
    from the number's chart nor merge two rows into a duplicate.

    A key's count is the SUM of its rows, one per `shard`: a report adds 1 to a random shard's
    row (calls/rollups.py SHARDS), so concurrent reports of one busy line do not queue on one
    row's lock until each commit's disk flush; a deletion adds a negative count to shard 0, so a
    row may be negative, never a key's sum. Every reader sums."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    phone_number_id = models.BigIntegerField(default=0)
    step_key = models.CharField(max_length=12, blank=True)
    job_id = models.BigIntegerField(default=0)
    job_history_id = models.BigIntegerField(default=0)
    # The call flow version that answered (Call.version_number; 0: the draft or none), so a
    # version's figures are its own calls, not a guess from publish times (outcomes/).
    version_number = models.PositiveIntegerField(default=0)
    day = models.DateField()
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    shard = models.PositiveSmallIntegerField(default=0)
    count = models.IntegerField()
    # The failed transfers and SMS among these calls' actions (calls.rollups.failed_actions):
    # what the alert rule "failed transfers or SMS in a day" reads (outcomes/alerts.py).
    failed_actions = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "workspace",
                    "phone_number_id",
                    "step_key",
                    "job_id",
                    "job_history_id",
                    "version_number",
                    "day",
                    "outcome",
                    "shard",
                ],
                name="dailyoutcome_unique",
            ),
        ]
        # The number page's and the job page's charts: one id, a range of days.
        indexes = [
            models.Index(fields=["phone_number_id", "day"], name="dailyoutcome_number_day"),
            models.Index(fields=["job_id", "day"], name="dailyoutcome_job_day"),
        ]

    def __str__(self):
        return f"{self.day} {self.outcome}: {self.count}"
