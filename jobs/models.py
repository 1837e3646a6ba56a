from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models.functions import Length, Lower
from django.db.models.lookups import GreaterThan, LessThanOrEqual

from workspaces.documents.models import VersionedDocument
from workspaces.models import Workspace

# Limits count characters. They hold in forms, admin, commands, the API and the database.
NAME_MAX = 100
DESCRIPTION_MAX = 500
TRIGGER_MAX = 500
INSTRUCTIONS_MAX = 10_000
LIMITS = {
    "name": NAME_MAX,
    "description": DESCRIPTION_MAX,
    "trigger": TRIGGER_MAX,
    "instructions": INSTRUCTIONS_MAX,
}
TEXT_FIELDS = tuple(LIMITS)
NAME_TAKEN = "A job with this name already exists in this workspace."


def _limit_constraints(prefix: str) -> list[models.BaseConstraint]:
    checks = [
        models.CheckConstraint(
            condition=LessThanOrEqual(Length(field), limit), name=f"{prefix}_{field}_max_len"
        )
        for field, limit in LIMITS.items()
    ]
    checks += [
        models.CheckConstraint(condition=GreaterThan(Length(f), 0), name=f"{prefix}_{f}_required")
        for f in ("name", "instructions")
    ]
    return checks


class JobFields(models.Model):
    """The four texts shared by jobs and templates."""

    name = models.CharField(max_length=NAME_MAX)
    description = models.CharField(max_length=DESCRIPTION_MAX, blank=True)
    trigger = models.CharField(
        "caller intent",
        max_length=TRIGGER_MAX,
        blank=True,
        help_text="When Sona should use this job.",
    )
    instructions = models.TextField(
        max_length=INSTRUCTIONS_MAX, validators=[MaxLengthValidator(INSTRUCTIONS_MAX)]
    )

    class Meta:
        abstract = True

    def __str__(self):
        return self.name

    def text_fields(self) -> dict[str, str]:
        return {field: getattr(self, field) for field in TEXT_FIELDS}


class JobTemplate(JobFields):
    """A starting point for new jobs: built in (no workspace) or saved by a workspace."""

    workspace = models.ForeignKey(
        Workspace, null=True, blank=True, on_delete=models.CASCADE, related_name="job_templates"
    )
    key = models.SlugField(
        max_length=50, null=True, blank=True, unique=True, help_text="Set on built-in templates."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            *_limit_constraints("jobtemplate"),
            models.UniqueConstraint(
                "workspace",
                Lower("name"),
                name="jobtemplate_name_ci_unique",
                violation_error_message="A template with this name already exists.",
            ),
        ]

    @property
    def is_builtin(self) -> bool:
        return self.workspace_id is None


class Job(JobFields, VersionedDocument):
    TEXT_FIELDS = TEXT_FIELDS
    LABEL_FIELD = "name"
    DETAIL_URL = "jobs:detail"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="jobs")
    template = models.ForeignKey(
        JobTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    # Kept even if the template is deleted later.
    template_name = models.CharField(max_length=NAME_MAX, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            *_limit_constraints("job"),
            models.UniqueConstraint(
                "workspace",
                Lower("name"),
                condition=models.Q(deleted_at__isnull=True),
                name="job_name_ci_unique",
                violation_error_message=NAME_TAKEN,
            ),
        ]
        indexes = [models.Index(fields=["workspace", "deleted_at", "-updated_at"])]

    @classmethod
    def from_db(cls, db, field_names, values):
        job = super().from_db(db, field_names, values)
        # The name as read, so a receiver can tell a rename (calls: scenarios name their job).
        job.loaded_name = job.__dict__.get("name")
        return job
