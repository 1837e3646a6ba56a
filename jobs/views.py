from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from core import diff
from core.errors import error_messages
from core.forms import add_service_errors, parse_id
from core.paginators import SearchEstimatePaginator
from workspaces.documents.views import DocumentPages
from workspaces.permissions import EDIT, workspace_view

from . import selectors, services
from .forms import REVISION_MISSING, JobForm, TemplateFromJobForm
from .models import TEXT_FIELDS

PAGE_SIZE = 25


def _page(request, queryset, *, searched=False):
    """A page of the list; a searched one estimates its count on PostgreSQL (the planner's
    rows, read from the trigram indexes' statistics) instead of counting every match."""
    paginator = SearchEstimatePaginator if searched else Paginator
    return paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _search(request, raw: str) -> str:
    """The search to run; says so when a long one was cut."""
    query = selectors.search_query(raw)
    if len(query) < len(raw.strip()):
        messages.info(request, f"Only the first {selectors.SEARCH_MAX} characters are searched.")
    return query


@workspace_view()
def job_list(request):
    query = _search(request, request.GET.get("q", ""))
    sort = request.GET.get("sort", "")
    sort = sort if sort in selectors.SORTS else selectors.DEFAULT_SORT
    jobs = selectors.job_list(workspace=request.workspace, query=query, sort=sort)
    return render(
        request,
        "jobs/job_list.html",
        {
            "kind": PAGES,
            "page": _page(request, jobs, searched=bool(query)),
            "query": query,
            "sort": sort,
            "sorts": selectors.SORTS,
        },
    )


@workspace_view(EDIT)
def job_new(request):
    """Start from scratch or pick a template from the gallery."""
    templates = selectors.template_list(workspace=request.workspace)
    return render(request, "jobs/job_new.html", {"templates": templates})


@workspace_view(EDIT)
def job_create(request):
    template = None
    template_id = request.GET.get("template") or request.POST.get("template")
    if template_id:
        if parse_id(template_id) is None:
            return redirect("jobs:new")
        template = selectors.template_get(workspace=request.workspace, pk=parse_id(template_id))
    if request.method == "POST":
        form = JobForm(request.POST)
        if form.is_valid():
            try:
                job = services.job_create(
                    workspace=request.workspace,
                    user=request.user,
                    data=form.cleaned_data,
                    template=template,
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Job “{job.name}” created.")
                return redirect(job)
    else:
        form = JobForm(initial=template.text_fields() if template else None)
    context = {"form": form, "template": template, "job": None}
    return render(request, "jobs/job_form.html", context)


@workspace_view()
def job_detail(request, pk):
    job = selectors.job_get(workspace=request.workspace, pk=pk, deleted=None)
    return render(
        request, "jobs/job_detail.html", {"job": job, "template_form": TemplateFromJobForm()}
    )


@workspace_view(EDIT)
def job_edit(request, pk):
    job = selectors.job_get(workspace=request.workspace, pk=pk)
    if request.method == "POST":
        form = JobForm(request.POST, instance=job)
        if form.is_valid():
            try:
                job = services.job_update(
                    job=job,
                    user=request.user,
                    data=form.cleaned_data,
                    expected_revision=form.cleaned_data.get("revision"),
                )
            except services.JobConflict as conflict:
                return _conflict(request, job, conflict)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Job “{job.name}” saved.")
                return redirect(job)
    else:
        form = JobForm(instance=job, initial={"revision": job.revision})
    return _editor(request, job, form)


def _editor(request, job, form=None, **extra):
    """The edit page, or only the form's body for an htmx swap."""
    if form is None:
        form = JobForm(instance=job, initial={"revision": job.revision})
    context = {"form": form, "job": job, "can_undo": services.job_can_undo_optimize(job), **extra}
    template = "jobs/_job_form_body.html" if request.htmx else "jobs/job_form.html"
    return render(request, template, context)


def _conflict_or_error(request, job, form, run):
    """Run an editor action; map a conflict to the conflict page and errors onto the form."""
    try:
        return run()
    except services.JobConflict as conflict:
        response = _conflict(request, job, conflict)
        if request.htmx:  # htmx swaps only 2xx answers: show the whole conflict page
            response.status_code = 200
            response["HX-Retarget"] = "body"
            response["HX-Reswap"] = "innerHTML"
        return response
    except services.JobOptimizeRefused as exc:
        # The edits were saved before the refusal: keep them, at their new revision.
        saved = exc.job
        form = JobForm({**request.POST.dict(), "revision": saved.revision}, instance=saved)
        form.is_valid()
        add_service_errors(form, exc)
        return _editor(request, saved, form)
    except ValidationError as exc:
        add_service_errors(form, exc)
        return _editor(request, job, form)


@require_POST
@workspace_view(EDIT)
def job_optimize(request, pk):
    job = selectors.job_get(workspace=request.workspace, pk=pk)
    form = JobForm(request.POST, instance=job)
    if not form.is_valid():
        return _editor(request, job, form)

    def run():
        before = form.cleaned_data.get("instructions", job.instructions)
        optimized = services.job_optimize(
            job=job,
            user=request.user,
            expected_revision=form.cleaned_data.get("revision"),
            unsaved=form.cleaned_data,
        )
        # The rewrite as a before/after word diff, shown beside Undo.
        segments = diff.word_diff(before, optimized.job.instructions)
        return _editor(
            request, optimized.job, optimize_result=optimized.result, optimize_diff=segments
        )

    return _conflict_or_error(request, job, form, run)


@require_POST
@workspace_view(EDIT)
def job_undo_optimize(request, pk):
    job = selectors.job_get(workspace=request.workspace, pk=pk)
    form = JobForm(request.POST, instance=job)

    def run():
        revision = parse_id(request.POST.get("revision"))
        if revision is None:
            raise ValidationError(REVISION_MISSING)
        typed = {field: request.POST[field] for field in TEXT_FIELDS if field in request.POST}
        saved = services.job_undo_optimize(
            job=job, user=request.user, expected_revision=revision, unsaved=typed
        )
        # Undo restores the instructions only: every other field keeps what was typed in it,
        # still unsaved (the page says so, and leaving it asks first).
        kept = [f for f in services.job_unsaved_fields(saved, typed) if f != "instructions"]
        initial = {"revision": saved.revision, **{f: typed[f] for f in kept}}
        form = JobForm(instance=saved, initial=initial)
        labels = [JobForm.Meta.labels[f] for f in kept]
        return _editor(request, saved, form, undone=True, kept_unsaved=labels)

    return _conflict_or_error(request, job, form, run)


@require_POST
@workspace_view(EDIT)
def template_from_job(request, pk):
    job = selectors.job_get(workspace=request.workspace, pk=pk)
    form = TemplateFromJobForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(form.errors["name"])
        template = services.template_create_from_job(
            job=job, user=request.user, name=form.cleaned_data["name"]
        )
    except ValidationError as exc:
        messages.error(request, " ".join(error_messages(exc)))
        return redirect(job)
    messages.success(request, f"Saved as template “{template.name}”.")
    return redirect("jobs:new")


@require_POST
@workspace_view(EDIT)
def template_delete(request, pk):
    template = selectors.template_get(workspace=request.workspace, pk=pk)
    try:
        services.template_delete(template=template, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(error_messages(exc)))
    else:
        messages.success(request, f"Template “{template.name}” deleted.")
    return redirect("jobs:new")


# Conflicts, and the shared pages (history, compare, restore, Recently deleted) -------------


def _conflict(request, job, conflict):
    fields = [
        (
            JobForm.Meta.labels[field],
            field,
            conflict.attempted.get(field, ""),
            getattr(conflict.current, field),
            diff.word_diff(getattr(conflict.current, field), conflict.attempted.get(field, "")),
        )
        for field in TEXT_FIELDS
    ]
    return render(
        request,
        "jobs/job_conflict.html",
        {"job": job, "current": conflict.current, "fields": fields},
        status=409,
    )


@require_POST
@workspace_view(EDIT)
def job_conflict_resolve(request, pk):
    job = selectors.job_get(workspace=request.workspace, pk=pk)
    attempted = {field: request.POST.get(field, "") for field in TEXT_FIELDS}
    revision = parse_id(request.POST.get("revision"))
    try:
        if revision is None:
            raise ValidationError(REVISION_MISSING)
        result = services.job_resolve_conflict(
            job=job,
            user=request.user,
            choice=request.POST.get("choice", ""),
            attempted=attempted,
            current_revision=revision,
        )
    except services.JobConflict as conflict:
        return _conflict(request, job, conflict)
    except ValidationError as exc:
        messages.error(request, " ".join(error_messages(exc)))
        return _conflict(
            request,
            job,
            services.JobConflict(selectors.job_get(workspace=request.workspace, pk=pk), attempted),
        )
    if result.pk != job.pk:
        messages.success(request, f"Your text was saved as a new job, “{result.name}”.")
    else:
        messages.success(request, "Saved. Both texts are in the job's history.")
    return redirect(result)


PAGES = DocumentPages(services.KIND, library="the job library", conflict=_conflict)
