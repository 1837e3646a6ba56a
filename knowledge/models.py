from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import GreaterThan, LessThanOrEqual

from workspaces.documents.models import VersionedDocument
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


class KnowledgePage(VersionedDocument):
    """A page of business facts Sona may quote. Attached to Sona steps like jobs."""

    TEXT_FIELDS = TEXT_FIELDS
    LABEL_FIELD = "title"
    DETAIL_URL = "knowledge:detail"

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
