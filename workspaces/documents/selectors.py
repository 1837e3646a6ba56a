"""The reads every versioned document shares: one document of a workspace, its versions
(numbered), and what changed between two versions."""

from django.db import models
from django.db.models import F, QuerySet, Window
from django.db.models.functions import RowNumber
from django.shortcuts import get_object_or_404

from workspaces.models import Workspace

# Longer searches are cut: nobody types more, and SQLite refuses LIKE patterns over 50,000 bytes.
SEARCH_MAX = 200


def search_query(query: str) -> str:
    """The search as it is run: trimmed and cut to SEARCH_MAX characters."""
    return query.strip()[:SEARCH_MAX]


def document_get(model, *, workspace: Workspace, pk: int, deleted: bool | None = False):
    """One document of the workspace, or 404. deleted=None finds both live and deleted ones."""
    documents = model.objects.filter(workspace=workspace)
    if deleted is not None:
        documents = documents.filter(deleted_at__isnull=not deleted)
    return get_object_or_404(documents, pk=pk)


def deleted(model, *, workspace: Workspace) -> QuerySet:
    """A kind's Recently deleted, newest first; the long texts are not loaded."""
    long = [f.name for f in model._meta.fields if isinstance(f, models.TextField)]
    return (
        model.objects.filter(workspace=workspace, deleted_at__isnull=False)
        .select_related("updated_by")
        .defer(*long)
        .order_by("-deleted_at", "-pk")
    )


def versions(document) -> QuerySet:
    """A document's versions, newest first, each numbered from 1 (its creation)."""
    return (
        document.history.select_related("history_user")
        .annotate(number=Window(RowNumber(), order_by=F("history_id").asc()))
        .order_by("-history_id")
    )


def version_get(document, version_id: int):
    history = document.history.select_related("history_user")
    version = get_object_or_404(history, history_id=version_id)
    # Numbered like versions() (a window filtered to one row would always say 1).
    version.number = document.history.filter(history_id__lte=version.history_id).count()
    return version


def latest_version_id(document) -> int | None:
    return document.history.order_by("-history_id").values_list("history_id", flat=True).first()


def changed_fields(older, newer) -> list[str]:
    """Names of the texts that differ between two versions (plus deletion state)."""
    if older is None:
        return []
    changed = [f for f in newer.instance_type.TEXT_FIELDS if getattr(older, f) != getattr(newer, f)]
    if (older.deleted_at is None) != (newer.deleted_at is None):
        changed.append("deleted" if newer.deleted_at else "restored")
    return changed


def annotate_changes(document, versions: list) -> None:
    """Set .changed on each version of a newest-first page: one extra query, not one per row."""
    if not versions:
        return
    before_page = (
        document.history.filter(history_id__lt=versions[-1].history_id)
        .order_by("-history_id")
        .first()
    )
    for newer, older in zip(versions, [*versions[1:], before_page], strict=True):
        newer.changed = changed_fields(older, newer)
