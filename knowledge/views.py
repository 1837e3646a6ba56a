from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render

from core.diff import word_diff
from core.errors import error_messages
from core.forms import add_service_errors
from workspaces import documents
from workspaces.documents.views import DocumentPages
from workspaces.permissions import EDIT, workspace_view

from . import selectors, services
from .forms import PageForm, UploadForm, UrlForm
from .models import TEXT_FIELDS
from .sources import extract_file

PAGE_SIZE = 25
HISTORY_PAGE_SIZE = 50
REVISION_MISSING = documents.REVISION_MISSING.format(noun="page")


def _page(request, queryset, size=PAGE_SIZE):
    return Paginator(queryset, size).get_page(request.GET.get("page"))


@workspace_view()
def page_list(request):
    query = request.GET.get("q", "").strip()[: selectors.SEARCH_MAX]
    pages = selectors.page_list(workspace=request.workspace, query=query)
    context = {"kind": PAGES, "page": _page(request, pages), "query": query}
    return render(request, "knowledge/page_list.html", context)


@workspace_view(EDIT)
def page_create(request):
    form = PageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            page = services.knowledge_page_create(
                workspace=request.workspace,
                user=request.user,
                title=form.cleaned_data["title"],
                body=form.cleaned_data["body"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Page “{page.title}” created.")
            return redirect(page)
    return render(request, "knowledge/page_form.html", {"form": form, "knowledge_page": None})


@workspace_view()
def page_detail(request, pk):
    page = selectors.page_get(workspace=request.workspace, pk=pk, deleted=None)
    return render(request, "knowledge/page_detail.html", {"knowledge_page": page})


@workspace_view(EDIT)
def page_edit(request, pk):
    page = selectors.page_get(workspace=request.workspace, pk=pk)
    if request.method != "POST":
        form = PageForm(initial={**page.text_fields(), "revision": page.revision})
        return render(request, "knowledge/page_form.html", {"form": form, "knowledge_page": page})
    form = PageForm(request.POST)
    if form.is_valid():
        try:
            revision = form.cleaned_data.get("revision")
            if revision is None:
                raise ValidationError(REVISION_MISSING)
            page = services.knowledge_page_update(
                page=page,
                user=request.user,
                title=form.cleaned_data["title"],
                body=form.cleaned_data["body"],
                expected_revision=revision,
            )
        except services.KnowledgeConflict as conflict:
            return _conflict(request, page, form, conflict)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Page “{page.title}” saved.")
            return redirect(page)
    return render(request, "knowledge/page_form.html", {"form": form, "knowledge_page": page})


def _conflict(request, page, form, conflict):
    """The form again with the typed text, now at the current revision, beside the current
    text and a word diff: saving again overwrites knowingly, Cancel keeps theirs."""
    current = conflict.current
    form = PageForm({**conflict.attempted, "revision": current.revision})
    form.is_valid()
    diffs = [
        (field.title(), word_diff(getattr(current, field), conflict.attempted[field]))
        for field in TEXT_FIELDS
    ]
    context = {"form": form, "knowledge_page": current, "conflict": conflict, "diffs": diffs}
    return render(request, "knowledge/page_form.html", context, status=409)


# Ways in ------------------------------------------------------------------------------------


def _imported(request, pages):
    count = len(pages)
    messages.success(request, f"{count} page{'s' if count != 1 else ''} created.")
    return redirect(pages[0] if count == 1 else "knowledge:list")


def _started(request, run):
    return redirect("knowledge:import_run", pk=run.pk)


@workspace_view(EDIT)
def page_upload(request):
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        files = form.cleaned_data["files"]
        if sum(f.size for f in files) > settings.KNOWLEDGE_UPLOAD_BACKGROUND_BYTES:
            # Large uploads are read on a worker; the run's page shows how it goes.
            run = services.knowledge_import_start(
                workspace=request.workspace,
                user=request.user,
                files=[(f.name, f.read()) for f in files],
            )
            return _started(request, run)
        try:
            sources = [extract_file(f.name, f.read()) for f in form.cleaned_data["files"]]
            pages = services.knowledge_import(
                workspace=request.workspace, user=request.user, sources=sources
            )
        except ValidationError as exc:
            form.add_error("files", f"Nothing was imported. {' '.join(error_messages(exc))}")
        else:
            return _imported(request, pages)
    return render(request, "knowledge/page_upload.html", {"form": form})


@workspace_view(EDIT)
def page_import_url(request):
    """The page is fetched on a worker (however slow the site): this answers at once with the
    run's page, which shows the progress and then the pages created, or the error."""
    form = UrlForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        run = services.knowledge_import_start(
            workspace=request.workspace, user=request.user, url=form.cleaned_data["url"]
        )
        return _started(request, run)
    return render(request, "knowledge/page_import_url.html", {"form": form})


@workspace_view()
def import_run_detail(request, pk):
    run = selectors.import_run_get(workspace=request.workspace, pk=pk)
    context = {
        "run": run,
        "pages": selectors.import_run_pages(run=run) if run.status == run.Status.DONE else [],
        "more": max(run.created_count - selectors.PAGES_SHOWN, 0),
        # Most errors do not say it themselves (the fetch's deadline does): say it once.
        "say_nothing_imported": "nothing was imported" not in run.error.lower(),
    }
    if request.headers.get("HX-Request"):  # the poll: only the status part
        return render(request, "knowledge/_import_run_status.html", context)
    return render(request, "knowledge/import_run.html", context)


# The shared pages: history, compare, restore, Recently deleted (workspaces/documents/views.py).
PAGES = DocumentPages(services.KIND, library="knowledge")
