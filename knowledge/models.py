from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import GreaterThan, LessThanOrEqual
from django.urls import reverse
from simple_history.models import HistoricalRecords

from workspaces.models import Workspace

# Limits count characters. They hold in forms, admin, commands, imports and the database.
TITLE_MAX = 200
BODY_MAX = 20_000
SOURCE_NAME_MAX = 500
LIMITS = {"title": TITLE_MAX, "body": BODY_MAX}
TEXT_FIELDS = tuple(LIMITS)


class SourceKind(models.TextChoices):
    WRITTEN = "written", "Written"
    FILE = "file", "Uploaded file"
    URL = "url", "Website"


class KnowledgePage(models.Model):
    """A page of business facts Sona may quote. Attached to Sona steps like jobs."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="knowledge_pages"
    )
    title = models.CharField(max_length=TITLE_MAX)
    body = models.TextField(max_length=BODY_MAX, validators=[MaxLengthValidator(BODY_MAX)])
    source_kind = models.CharField(
        max_length=10, choices=SourceKind.choices, default=SourceKind.WRITTEN
    )
    # The file name or the URL the page came from ("" when written in the browser).
    source_name = models.CharField(max_length=SOURCE_NAME_MAX, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    deleted_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Bumped by every save through the services; editors carry it to detect stale copies.
    revision = models.PositiveIntegerField(default=1)

    history = HistoricalRecords(
        excluded_fields=["updated_at", "created_at"], cascade_delete_history=False
    )

    class Meta:
        ordering = ["title", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("title"), TITLE_MAX),
                name="knowledgepage_title_max_len",
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("body"), BODY_MAX),
                name="knowledgepage_body_max_len",
            ),
            models.CheckConstraint(
                condition=GreaterThan(Length("title"), 0), name="knowledgepage_title_required"
            ),
            models.CheckConstraint(
                condition=models.Q(source_kind__in=SourceKind.values),
                name="knowledgepage_source_kind_valid",
            ),
        ]
        indexes = [models.Index(fields=["workspace", "deleted_at", "title"])]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("knowledge:detail", args=[self.pk])

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    def text_fields(self) -> dict[str, str]:
        return {field: getattr(self, field) for field in TEXT_FIELDS}
