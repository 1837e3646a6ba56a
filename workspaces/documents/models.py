"""The abstract model of a versioned document (jobs.Job, knowledge.KnowledgePage)."""

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.urls import reverse
from simple_history.models import HistoricalRecords

from workspaces.models import Workspace


class VersionedDocument(models.Model):
    """A workspace's text with authors, timestamps, a revision, a history and a bin.

    A concrete model names its texts (`TEXT_FIELDS`), the one that labels it (`LABEL_FIELD`)
    and its page (`DETAIL_URL`), and redeclares `workspace` with its own related name. The
    history tables stay per model (jobs_historicaljob, knowledge_historicalknowledgepage).
    """

    TEXT_FIELDS: ClassVar[tuple[str, ...]] = ()
    LABEL_FIELD: ClassVar[str] = ""
    DETAIL_URL: ClassVar[str] = ""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
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
        inherit=True, excluded_fields=["updated_at", "created_at"], cascade_delete_history=False
    )

    class Meta:
        abstract = True

    def __str__(self):
        return getattr(self, self.LABEL_FIELD)

    def get_absolute_url(self):
        return reverse(self.DETAIL_URL, args=[self.pk])

    @property
    def label(self) -> str:
        return getattr(self, self.LABEL_FIELD)

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    def text_fields(self) -> dict[str, str]:
        return {field: getattr(self, field) for field in self.TEXT_FIELDS}
