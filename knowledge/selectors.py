from django.db.models import F, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.shortcuts import get_object_or_404

from workspaces.models import ImportRun, Workspace

from .models import TEXT_FIELDS, KnowledgePage

SEARCH_MAX = 200


def page_list(*, workspace: Workspace, query: str = "", deleted=False) -> QuerySet[KnowledgePage]:
    """Pages for the library: the long bodies are not loaded."""
    pages = KnowledgePage.objects.filter(workspace=workspace, deleted_at__isnull=not deleted)
    query = query.strip()[:SEARCH_MAX]
    if query:
        pages = pages.filter(Q(title__icontains=query) | Q(body__icontains=query))
    order = ("-deleted_at", "-pk") if deleted else ("title", "pk")
    return pages.select_related("updated_by").defer("body").order_by(*order)


def page_get(*, workspace: Workspace, pk: int, deleted: bool | None = False) -> KnowledgePage:
    """One page of the workspace, or 404. deleted=None finds both live and deleted pages."""
    pages = KnowledgePage.objects.filter(workspace=workspace)
    if deleted is not None:
        pages = pages.filter(deleted_at__isnull=not deleted)
    return get_object_or_404(pages, pk=pk)


def page_versions(*, page: KnowledgePage) -> QuerySet:
    """A page's versions, newest first, each numbered from 1 (its creation)."""
    return (
        page.history.select_related("history_user")
        .annotate(number=Window(RowNumber(), order_by=F("history_id").asc()))
        .order_by("-history_id")
    )


def page_version_get(*, page: KnowledgePage, version_id: int):
    version = get_object_or_404(page.history.select_related("history_user"), history_id=version_id)
    version.number = page.history.filter(history_id__lte=version.history_id).count()
    return version


def changed_fields(older, newer) -> list[str]:
    if older is None:
        return []
    changed = [f for f in TEXT_FIELDS if getattr(older, f) != getattr(newer, f)]
    if (older.deleted_at is None) != (newer.deleted_at is None):
        changed.append("deleted" if newer.deleted_at else "restored")
    return changed


PAGES_SHOWN = 50  # of a finished import; the library has them all


def import_run_get(*, workspace: Workspace, pk: int) -> ImportRun:
    """One knowledge import of the workspace (a website or uploaded files), or 404."""
    runs = ImportRun.objects.filter(
        workspace=workspace, kind__in=[ImportRun.Kind.WEBSITE, ImportRun.Kind.FILES]
    )
    return get_object_or_404(runs, pk=pk)


def import_run_pages(*, run: ImportRun) -> QuerySet[KnowledgePage]:
    """The first pages a run created that still exist, in the order created."""
    ids = run.result_ids[:PAGES_SHOWN] if isinstance(run.result_ids, list) else []
    return (
        KnowledgePage.objects.filter(workspace=run.workspace_id, pk__in=ids, deleted_at=None)
        .defer("body")
        .order_by("pk")
    )
