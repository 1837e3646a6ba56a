from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from workspaces.documents.selectors import SEARCH_MAX, document_get, search_query  # noqa: F401 (the views use them from here)
from workspaces.models import ImportRun, Workspace

from .models import KnowledgePage


def page_list(*, workspace: Workspace, query: str = "", deleted=False) -> QuerySet[KnowledgePage]:
    """Pages for the library: the long bodies are not loaded."""
    pages = KnowledgePage.objects.filter(workspace=workspace, deleted_at__isnull=not deleted)
    query = search_query(query)
    if query:
        pages = pages.filter(Q(title__icontains=query) | Q(body__icontains=query))
    order = ("-deleted_at", "-pk") if deleted else ("title", "pk")
    return pages.select_related("updated_by").defer("body").order_by(*order)


def page_get(*, workspace: Workspace, pk: int, deleted: bool | None = False) -> KnowledgePage:
    """One page of the workspace, or 404. deleted=None finds both live and deleted pages."""
    return document_get(KnowledgePage, workspace=workspace, pk=pk, deleted=deleted)


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
