from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from core.diff import word_diff
from core.errors import error_messages
from core.forms import add_service_errors, parse_id
from workspaces.permissions import EDIT, workspace_view

from . import selectors, services
from .forms import PageForm, UploadForm, UrlForm
from .models import TEXT_FIELDS
from .sources import extract_file

PAGE_SIZE = 25
HISTORY_PAGE_SIZE = 50
REVISION_MISSING = (
    "This form did not say which version of the page it was opened at, so saving it could "
    "overwrite a newer version. Nothing was saved: reload the page and try again."
)


def _page(request, queryset, size=PAGE_SIZE):
    return Paginator(queryset, size).get_page(request.GET.get("page"))


@workspace_view()
def page_list(request):
    query = request.GET.get("q", "").strip()[: selectors.SEARCH_MAX]
    pages = selectors.page_list(workspace=request.workspace, query=query)
    return render(
        request, "knowledge/page_list.html", {"page": _page(request, pages), "query": query}
    )


@workspace_view()
def page_deleted_list(request):
    pages = selectors.page_list(workspace=request.workspace, deleted=True)
    return render(request, "knowledge/page_deleted_list.html", {"page": _page(request, pages)})


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


@workspace_view(EDIT)
def page_delete(request, pk):
    page = selectors.page_get(workspace=request.workspace, pk=pk)
    if request.method != "POST":
        return render(request, "knowledge/page_confirm_delete.html", {"knowledge_page": page})
    try:
        result = services.knowledge_page_delete(page=page, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(error_messages(exc)))
        return redirect(page)
    for notice in result.notices:
        messages.info(request, notice)
    messages.success(request, f"Page “{page.title}” moved to Recently deleted.")
    return redirect("knowledge:list")


@require_POST
@workspace_view(EDIT)
def page_restore(request, pk):
    page = selectors.page_get(workspace=request.workspace, pk=pk, deleted=True)
    page = services.knowledge_page_restore(page=page, user=request.user)
    messages.success(request, f"Page “{page.title}” restored.")
    return redirect(page)


# History ----------------------------------------------------------------------------------


@workspace_view()
def page_history(request, pk):
    page = selectors.page_get(workspace=request.workspace, pk=pk, deleted=None)
    paged = _page(request, selectors.page_versions(page=page), HISTORY_PAGE_SIZE)
    versions = list(paged.object_list)
    before = (
        page.history.filter(history_id__lt=versions[-1].history_id).order_by("-history_id").first()
        if versions
        else None
    )
    for newer, older in zip(versions, [*versions[1:], before], strict=True):
        newer.changed = selectors.changed_fields(older, newer)
    latest_id = page.history.order_by("-history_id").values_list("history_id", flat=True).first()
    context = {
        "knowledge_page": page,
        "page": paged,
        "versions": versions,
        "latest_id": latest_id,
        "can_restore": request.membership.can_edit and not page.is_deleted,
    }
    return render(request, "knowledge/page_history.html", context)


def _version_param(request, page, name):
    version_id = parse_id(request.GET.get(name))
    if version_id is None:
        return None
    return selectors.page_version_get(page=page, version_id=version_id)


@workspace_view()
def page_compare(request, pk):
    page = selectors.page_get(workspace=request.workspace, pk=pk, deleted=None)
    old, new = _version_param(request, page, "a"), _version_param(request, page, "b")
    if old is None or new is None:
        messages.error(request, "Pick two versions to compare.")
        return redirect("knowledge:history", pk=page.pk)
    if old.history_id > new.history_id:
        old, new = new, old
    fields = [
        (field.title(), word_diff(getattr(old, field), getattr(new, field)))
        for field in TEXT_FIELDS
    ]
    context = {"knowledge_page": page, "old": old, "new": new, "fields": fields}
    return render(request, "knowledge/page_compare.html", context)


@workspace_view(EDIT)
def page_version_restore(request, pk, version_id):
    page = selectors.page_get(workspace=request.workspace, pk=pk)
    version = selectors.page_version_get(page=page, version_id=version_id)
    if request.method != "POST":
        context = {"knowledge_page": page, "version": version}
        return render(request, "knowledge/page_version_restore.html", context)
    revision = parse_id(request.POST.get("revision"))
    try:
        if revision is None:
            raise ValidationError(REVISION_MISSING)
        services.knowledge_page_restore_version(
            page=page, version=version, user=request.user, expected_revision=revision
        )
    except services.KnowledgeConflict:
        messages.error(
            request, "The page changed since you opened this. Nothing was restored: try again."
        )
    except ValidationError as exc:
        messages.error(request, " ".join(error_messages(exc)))
    else:
        messages.success(request, f"Version {version.number} restored as the newest version.")
    return redirect("knowledge:history", pk=page.pk)


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
