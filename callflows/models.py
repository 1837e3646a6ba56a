import secrets

from django.conf import settings
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import GreaterThan, LessThanOrEqual
from django.urls import reverse

from jobs.models import Job
from knowledge.models import KnowledgePage
from workspaces.models import Workspace

MAX_JOBS_PER_STEP = 10
MAX_KNOWLEDGE_PER_STEP = 20
E164_PATTERN = r"^\+[1-9][0-9]{6,14}$"


class PhoneNumberQuerySet(models.QuerySet):
    def live(self):
        """Numbers in use: not in "Recently deleted"."""
        return self.filter(deleted_at__isnull=True)

    def deleted(self):
        return self.filter(deleted_at__isnull=False)


class PhoneNumber(models.Model):
    """A number the workspace owns (an inbox). Unique across the whole system among numbers in
    use; a deleted one waits in "Recently deleted" (restorable with its call flow, versions and
    scenarios) until purge_deleted removes it, and its number may meanwhile be added again."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="phone_numbers")
    number = models.CharField("phone number", max_length=16, help_text="E.164, e.g. +15551234567")
    display_name = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)
    # Bumped in the same transaction as every change to what the number serves live (publish,
    # rollback, an edit of a live job, a rename): the runtime reads it with the token in one
    # query, so every process knows at once whether the body it holds is still the live one.
    live_generation = models.PositiveBigIntegerField(default=0, editable=False)
    # A2P 10DLC or toll-free verification is done outside Playbook; only a registered number
    # may send the SMS of live jobs (callflows/checks.py refuses publishing otherwise).
    sms_registered = models.BooleanField(
        "SMS registered",
        default=False,
        help_text="Registered for SMS (A2P 10DLC or toll-free verification).",
    )
    # Set by phone_number_delete: the line stops answering (every lookup reads live numbers).
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = PhoneNumberQuerySet.as_manager()

    class Meta:
        ordering = ["display_name", "number"]
        constraints = [
            # Also the index of the runtime's lookup (`number = %s AND deleted_at IS NULL`).
            models.UniqueConstraint(
                fields=["number"],
                condition=models.Q(deleted_at__isnull=True),
                name="phonenumber_number_unique",
                violation_error_message="This number is already in use.",
            ),
            models.CheckConstraint(
                condition=models.Q(number__startswith="+") & GreaterThan(Length("number"), 7),
                name="phonenumber_e164_shape",
            ),
            models.CheckConstraint(
                condition=GreaterThan(Length("display_name"), 0), name="phonenumber_name_required"
            ),
        ]
        # Purge finds what was deleted long ago; "Recently deleted" lists a workspace's.
        indexes = [models.Index(fields=["deleted_at"], name="phonenumber_deleted_at")]

    def __str__(self):
        return f"{self.display_name} ({self.number})"

    def get_absolute_url(self):
        return reverse("callflows:editor", args=[self.pk])

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class CallFlow(models.Model):
    """The steps a call to one phone number goes through: a draft and published versions."""

    phone_number = models.OneToOneField(
        PhoneNumber, on_delete=models.CASCADE, related_name="call_flow"
    )
    live_version = models.ForeignKey(
        "CallFlowVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    draft_updated_at = models.DateTimeField(auto_now_add=True)
    draft_updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self):
        return f"Call flow of {self.phone_number}"


class StepKind(models.TextChoices):
    GREETING = "greeting", "Greeting / play message"
    BUSINESS_HOURS = "business_hours", "Business hours"
    RING_USERS = "ring_users", "Ring users"
    SONA = "sona", "Sona (AI agent)"
    FORWARD = "forward", "Forward"
    VOICEMAIL = "voicemail", "Voicemail"


def new_step_key() -> str:
    return secrets.token_hex(6)


class Step(models.Model):
    """A draft step. `key` is stable across publish and rollback; branches refer to keys."""

    call_flow = models.ForeignKey(CallFlow, on_delete=models.CASCADE, related_name="steps")
    key = models.CharField(max_length=12, default=new_step_key)
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=20, choices=StepKind.choices)
    name = models.CharField(max_length=100)
    settings = models.JSONField(default=dict, blank=True)
    jobs = models.ManyToManyField(Job, through="StepJob", related_name="draft_steps")

    class Meta:
        ordering = ["call_flow", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["call_flow", "key"], name="step_key_unique"),
            models.CheckConstraint(
                condition=models.Q(kind__in=StepKind.values), name="step_kind_valid"
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.get_kind_display()})"

    @property
    def is_sona(self) -> bool:
        return self.kind == StepKind.SONA


def _position_rule(prefix: str, most: int) -> models.CheckConstraint:
    """Positions run from 1 to `most`: the database alone never holds one more."""
    return models.CheckConstraint(
        condition=models.Q(position__gte=1) & LessThanOrEqual(models.F("position"), most),
        name=f"{prefix}_position_1_to_{most}",
    )


def _attached_rules(prefix: str, field: str, once: str, most: int) -> list:
    """A draft step's attachments: each once, one per position, positions 1..most."""
    return [
        models.UniqueConstraint(fields=["step", field], name=f"{prefix}_{once}"),
        models.UniqueConstraint(fields=["step", "position"], name=f"{prefix}_position_unique"),
        _position_rule(prefix, most),
    ]


def _published_rules(prefix: str, field: str, most: int) -> list:
    """A published version's attachments: each once per step, positions 1..most."""
    return [
        models.UniqueConstraint(fields=["version", "step_key", field], name=f"{prefix}_unique"),
        _position_rule(prefix, most),
    ]


class StepJob(models.Model):
    """A job attached to a draft Sona step. The database alone never holds an 11th job."""

    step = models.ForeignKey(Step, on_delete=models.CASCADE, related_name="step_jobs")
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="step_jobs")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["step", "position"]
        constraints = _attached_rules("stepjob", "job", "job_once", MAX_JOBS_PER_STEP)

    def __str__(self):
        return f"{self.job} on {self.step} (#{self.position})"


class StepKnowledge(models.Model):
    """A knowledge page attached to a draft Sona step: at most 20, each once, in order."""

    step = models.ForeignKey(Step, on_delete=models.CASCADE, related_name="step_knowledge")
    page = models.ForeignKey(KnowledgePage, on_delete=models.CASCADE, related_name="step_links")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["step", "position"]
        constraints = _attached_rules("stepknowledge", "page", "page_once", MAX_KNOWLEDGE_PER_STEP)

    def __str__(self):
        return f"{self.page} on {self.step} (#{self.position})"


class CallFlowVersion(models.Model):
    """A published, immutable snapshot of a call flow's draft. Job ids are frozen, texts are not."""

    call_flow = models.ForeignKey(CallFlow, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    snapshot = models.JSONField()
    note = models.CharField(max_length=500, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(auto_now_add=True)
    rolled_back_from = models.PositiveIntegerField(
        null=True, blank=True, help_text="The version number this one re-published, if any."
    )
    override_reason = models.CharField(
        max_length=500,
        blank=True,
        help_text="Why it was published although saved test cases failed (“Publish anyway”).",
    )

    class Meta:
        ordering = ["call_flow", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["call_flow", "number"], name="callflowversion_number_unique"
            )
        ]

    def __str__(self):
        return f"Version {self.number} of {self.call_flow.phone_number}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Published versions are immutable.")
        super().save(*args, **kwargs)


class PublishedJob(models.Model):
    """Which jobs a published version uses: lets "is this job live?" be one indexed query
    and PROTECTs those jobs from deletion at the database level."""

    version = models.ForeignKey(
        CallFlowVersion, on_delete=models.CASCADE, related_name="published_jobs"
    )
    job = models.ForeignKey(Job, on_delete=models.PROTECT, related_name="published_in")
    step_key = models.CharField(max_length=12)
    position = models.PositiveSmallIntegerField()

    class Meta:
        constraints = _published_rules("publishedjob", "job", MAX_JOBS_PER_STEP)

    def __str__(self):
        return f"Job {self.job_id} in version {self.version_id} (step {self.step_key}, #{self.position})"


class PublishedKnowledge(models.Model):
    """Which knowledge pages a published version uses (ids frozen, text not): "is this page
    live?" is one indexed query, and the database PROTECTs those pages from deletion."""

    version = models.ForeignKey(
        CallFlowVersion, on_delete=models.CASCADE, related_name="published_knowledge"
    )
    page = models.ForeignKey(KnowledgePage, on_delete=models.PROTECT, related_name="published_in")
    step_key = models.CharField(max_length=12)
    position = models.PositiveSmallIntegerField()

    class Meta:
        constraints = _published_rules("publishedknowledge", "page", MAX_KNOWLEDGE_PER_STEP)

    def __str__(self):
        return f"Page {self.page_id} in version {self.version_id} (step {self.step_key})"
